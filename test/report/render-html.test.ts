import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FINDING_CARDS, renderHtml } from '../../src/report/render-html.ts';
import { sanitizeJson } from '../../src/report/sanitize-json.ts';
import type { AnalysisReport } from '../../src/report/model.ts';
import { buildSampleReport, buildSyntheticReport } from './sample-report.ts';
import { ladderSvgs, reportsUnderTest } from './reports.ts';

for (const [name, report] of await reportsUnderTest()) {
  describe(`renderHtml (${name})`, () => {
    const html = renderHtml(report);

    it('is deterministic: rendering twice gives byte-identical output', () => {
      assert.equal(renderHtml(report), html);
      assert.equal(renderHtml(structuredClone({ ...report, flows: [...report.flows] }) as AnalysisReport), html);
    });

    it('makes no external reference: no remote src/href, stylesheet link, script src or CSS import', () => {
      const urls = html.match(/(?:https?:)?\/\/[^\s"'<>)]+/g) ?? [];
      const allowed = urls.filter((u) => u !== 'http://www.w3.org/2000/svg');
      // Only the SVG namespace may appear as a URL anywhere in the document.
      assert.deepEqual(allowed.filter((u) => /^(https?:)?\/\//.test(u) && !report.capture.comments.some((c) => c.includes(u))), []);
      assert.doesNotMatch(html, /\s(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:|\/\/)/i);
      assert.doesNotMatch(html, /<link\b/i);
      assert.doesNotMatch(html, /<script[^>]*\ssrc=/i);
      assert.doesNotMatch(html, /@import|url\(\s*['"]?(?:https?:|\/\/)/i);
      assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    });

    it('shows every finding id, title, summary and Wireshark filter, errors first', () => {
      for (const f of report.findings) {
        for (const text of [f.id, f.title, f.wiresharkFilter]) {
          const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#x27;').replace(/=/g, '&#x3D;');
          assert.ok(html.includes(escaped), `${f.id}: ${text}`);
        }
      }
      const order = [...html.matchAll(/<article class="finding (\w+)"/g)].map((m) => m[1]);
      const rank = { error: 0, warning: 1, info: 2 } as Record<string, number>;
      assert.deepEqual(order, [...order].sort((a, b) => rank[a!]! - rank[b!]!));
      assert.equal(order.length, report.findings.length);
    });

    it('draws a ladder for flagged flows with one arrow per sampled segment and every state change', () => {
      const ladders = ladderSvgs(html);
      const flagged = [...new Set(report.findings.flatMap((f) => f.flows))].filter((id) => [...report.flows].some((x) => x.id === id));
      // Below the caps every flagged connection has exactly one ladder; above, each finding has some.
      if (flagged.length <= 24) assert.deepEqual([...ladders.keys()].sort((a, b) => a - b), flagged.sort((a, b) => a - b));
      for (const f of report.findings) {
        if (f.flows.length > 0) assert.ok(f.flows.some((id) => ladders.has(id)), `${f.id} has a ladder`);
      }
      for (const [id, svg] of ladders) {
        const flow = [...report.flows].find((f) => f.id === id)!;
        assert.equal((svg.match(/<polygon /g) ?? []).length, flow.segments.length, `arrows of flow ${id}`);
        for (const s of flow.segments) assert.ok(svg.includes(`>#${s.frame}<`), `frame ${s.frame} labelled`);
        const retx = flow.segments.filter((s) => s.retransmission !== undefined).length;
        assert.equal((svg.match(/stroke="#c62828" stroke-width="1.4" stroke-dasharray/g) ?? []).length, retx, 'retransmissions dashed red');
        for (const t of flow.transitions) assert.ok(svg.includes(`>${t.to}<`), `state ${t.to} of flow ${id}`);
      }
    });

    it('shows every field of every finding: summary, explanation, causes, checks, endpoint, frames, filter, caveat', () => {
      const esc = (t: string): string =>
        t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/`/g, '&#x60;').replace(/=/g, '&#x3D;');
      for (const f of report.findings) {
        for (const text of [f.summary, f.explanation, ...f.causes, ...f.checks, f.endpoint, f.caveat ?? '']) {
          assert.ok(html.includes(esc(text)), `${f.id}: ${text}`);
        }
        assert.ok(html.includes(`(${f.framesTotal.toLocaleString('en-US')} in total)`), `${f.id}: frames total`);
        for (const frame of f.frames.slice(0, 20)) assert.ok(html.includes(`#${frame}`), `${f.id}: frame ${frame}`);
      }
    });

    it('says what the capture can show: the quality items, or that none was found', () => {
      const items = report.quality?.items ?? [];
      if (items.length === 0) assert.match(html, /No capture gap detected/);
      for (const q of items) assert.ok(html.includes(`data-quality-id="${q.id}"`), q.id);
    });

    it('has the all-connections timeline, the charts, the services and the connection table', () => {
      assert.match(html, /class="swimlane"|class="density"/);
      // One row per connection here (few flows), counted in the timeline's label.
      const n = report.flows.length;
      if (n <= 300) assert.ok(html.includes(`Timeline of ${n} ${n === 1 ? 'connection' : 'connections'},`), `${n} flows`);
      // Counts agree with their nouns wherever the page says "1 …" (9 scenarios have one flow).
      assert.doesNotMatch(html.replace(/<[^>]*>/g, ' '), /(^|[^\d.,:])1 (connections|handshakes|bins|findings|packets|flows|notes|problems)\b/);
      for (const title of ['Connections opened, closed and reset', 'SYN and SYN-ACK retransmissions']) assert.ok(html.includes(title));
      assert.equal((html.match(/<tr data-id=/g) ?? []).length, Math.min(2000, report.flows.length));
    });
  });
}

describe('renderHtml escaping', () => {
  const hostile = '</script><script>alert(1)</script>';
  const report = buildSampleReport([hostile, 'line\u2028separator\u2029end', '<!-- comment']);
  const first = report.findings[0]!;
  const evil: AnalysisReport = {
    ...report,
    findings: [{ ...first, title: '<img src=x onerror=alert(2)>', endpoint: '"><svg onload=alert(3)>' }, ...report.findings.slice(1)],
  };
  const html = renderHtml(evil);

  it('never lets capture text close the script element or inject markup', () => {
    assert.equal((html.match(/<script/g) ?? []).length, 2);
    assert.ok(!html.includes('<script>alert(1)'));
    assert.ok(!html.includes('<img src=x'));
    assert.ok(!html.includes('<svg onload'));
    assert.ok(html.includes('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'), 'comment shown as text');
  });

  it('escapes U+2028/2029 and < in the embedded JSON, which still parses back to the same strings', () => {
    const block = /id="tcpmortem-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    assert.ok(!block.includes('\u2028') && !block.includes('\u2029') && !block.includes('<'));
    const data = JSON.parse(block) as { capture: { comments: string[] } };
    assert.deepEqual(data.capture.comments, [hostile, 'line\u2028separator\u2029end', '<!-- comment']);
  });

  it('sanitizeJson round-trips', () => {
    const value = { a: '</script>\u2028\u2029<!--', n: [1, 2.5, null] };
    assert.deepEqual(JSON.parse(sanitizeJson(value)), value);
    assert.ok(!sanitizeJson(value).includes('<'));
  });
});

describe('renderHtml on large captures', () => {
  it('renders 200k flows under 5 MB, as a density view, with a capped table that says what it left out', () => {
    const report = buildSyntheticReport(200_000);
    const t0 = performance.now();
    const html = renderHtml(report);
    const ms = performance.now() - t0;
    const bytes = Buffer.byteLength(html);
    assert.ok(bytes < 5 * 1024 * 1024, `${bytes} bytes`);
    assert.match(html, /class="density"/);
    assert.equal((html.match(/<tr data-id=/g) ?? []).length, 2000);
    assert.match(html, /2,000 of 200,000 connections shown/);
    assert.ok(ladderSvgs(html).size <= 3 * report.findings.length);
    process.stdout.write(`# 200k flows: ${ms.toFixed(0)} ms, ${(bytes / 1e6).toFixed(2)} MB\n`);
  });

  it('the connections table has a VLAN column when a flow is tagged, and only then', () => {
    const base = buildSyntheticReport(3);
    const flows = [...base.flows].map((f, i) => ({ ...f, vlan: [-1, 42, 10 * 4096 + 20][i]! }));
    const tagged = renderHtml({ ...base, flows });
    assert.match(tagged, /<th>Server<\/th><th>VLAN<\/th>/);
    const cells = [...tagged.matchAll(/<tr data-id="\d+"[^>]*>\s*(?:<td[^>]*>[^<]*<\/td>){3}<td class="num">([^<]*)<\/td>/g)].map((m) => m[1]);
    assert.deepEqual(cells, ['', '42', '10/20']);
    assert.doesNotMatch(renderHtml(base), /<th>VLAN<\/th>/);
    // The swimlane rows and the ladder headings name the VLAN too.
    assert.match(tagged, /#3 10\.0\.0\.\d+:\d+ → 172\.16\.0\.\d+:\d+ VLAN 10\/20</);
    assert.match(tagged, /<strong>Connection #\d+: [^<]* on VLAN (42|10\/20)[ <]/);
  });

  it('a capture without connections says so where the timeline and the table would be', () => {
    const html = renderHtml({ ...buildSyntheticReport(3), flows: [], findings: [] });
    assert.match(html, /<figcaption>No connection to draw: the capture has none\.<\/figcaption>/);
    assert.match(html, />No connections\.</);
    assert.doesNotMatch(html, /All 0 connections|One row per connection \(0/);
  });

  it('the capped table\'s note agrees in number with what it left out (1 is, 2 are)', () => {
    const report = buildSyntheticReport(12);
    assert.match(renderHtml(report, { maxTableRows: 11 }), /11 of 12 connections shown: [^<]*; 1 is left out \(/);
    assert.match(renderHtml(report, { maxTableRows: 10 }), /10 of 12 connections shown: [^<]*; 2 are left out \(/);
  });

  it(`a thousand findings: ${FINDING_CARDS} cards, the rest as rows of one table, every finding reachable by its anchor`, () => {
    const sample = buildSampleReport();
    const base = sample.findings[0]!;
    // 1,000 findings of one kind on distinct endpoints, as a storm of churning clients gives.
    const findings = Array.from({ length: 1000 }, (_, i) => ({ ...base, endpoint: `10.1.${i >> 8}.${i & 255}:80`, summary: `${base.summary} (#${i})` }));
    const html = renderHtml({ ...sample, findings });
    assert.equal((html.match(/<article class="finding /g) ?? []).length, FINDING_CARDS);
    assert.match(html, new RegExp(`<h3 id="more-findings">${(1000 - FINDING_CARDS).toLocaleString('en-US')} more findings</h3>`));
    for (let rank = 1; rank <= 1000; rank++) assert.ok(html.includes(`id="finding-${rank}"`), `finding-${rank}`);
    assert.equal((html.match(/<tr id="finding-\d+"/g) ?? []).length, 1000 - FINDING_CARDS);
    // Each card costs ~4 KB, a row ~0.5 KB.
    assert.ok(Buffer.byteLength(html) < Buffer.byteLength(renderHtml(sample)) + 1000 * 1024, `${Buffer.byteLength(html)} bytes`);
  });
});
