import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SUMMARY_FINDINGS, MAX_TERMINAL_FILTER_CHARS, renderSummary, terminalFilter } from '../../src/report/render-summary.ts';
import { rankFindings } from '../../src/report/view-model.ts';
import type { Finding, Severity } from '../../src/diagnose/types.ts';
import { buildSampleReport } from './sample-report.ts';
import { reportsUnderTest } from './reports.ts';

for (const [name, report] of await reportsUnderTest()) {
  describe(`renderSummary (${name})`, () => {
    it('plain text without colour: facts, every finding with count and endpoint, report path', () => {
      const text = renderSummary(report, { color: false, reportPath: 'out/report.html', maxFindings: Infinity });
      assert.doesNotMatch(text, /\x1b\[/);
      assert.ok(text.includes(report.capture.file));
      assert.ok(text.includes(`${report.flows.length} connection`));
      for (const f of report.findings) {
        assert.ok(text.includes(f.title) && text.includes(f.endpoint) && text.includes(`[${f.id}] ×${f.count}`), f.id);
      }
      assert.match(text, /Report written to out\/report\.html\n$/);
    });

    it('uses ANSI colours only when asked', () => {
      assert.match(renderSummary(report, { color: true }), /\x1b\[/);
    });
  });
}

describe('renderSummary verdict', () => {
  it('says when nothing was found', () => {
    const report = { ...buildSampleReport(), findings: [] };
    assert.match(renderSummary(report, { color: false }), /^OK {2}No problems found in 18 connections\.$/m);
  });
  it('prints a Wireshark filter too long for a terminal as its endpoint\'s filter, and says where the exact one is', () => {
    const long = Array.from({ length: 30 }, (_, i) => `(ip.addr==10.0.0.${i} && tcp.port==${40000 + i})`).join(' || ');
    assert.ok(long.length > MAX_TERMINAL_FILTER_CHARS);
    const where = `the exact filter, ${long.length.toLocaleString('en-US')} characters, is in the report and the JSON`;
    assert.equal(terminalFilter({ wiresharkFilter: long, endpoint: '192.168.0.4:443' }), `ip.addr==192.168.0.4 && tcp.port==443  (this endpoint's traffic; ${where})`);
    assert.equal(terminalFilter({ wiresharkFilter: long, endpoint: '[fd00:0:0:1::6]:443' }), `ipv6.addr==fd00:0:0:1::6 && tcp.port==443  (this endpoint's traffic; ${where})`);
    assert.equal(terminalFilter({ wiresharkFilter: long, endpoint: '192.168.1.71' }), `ip.addr==192.168.1.71  (this endpoint's traffic; ${where})`);
    assert.equal(terminalFilter({ wiresharkFilter: long, endpoint: 'fe80::1' }), `ipv6.addr==fe80::1  (this endpoint's traffic; ${where})`);
    assert.equal(terminalFilter({ wiresharkFilter: long, endpoint: 'several listeners' }), where);
    const short = 'frame.number in {1 2 3}';
    assert.equal(terminalFilter({ wiresharkFilter: short, endpoint: '192.168.0.4:443' }), short);
    // In the summary: every line of a finding stays short, the exact filter stays in the finding.
    const base = buildSampleReport();
    const f = { ...base.findings[0]!, wiresharkFilter: long };
    const text = renderSummary({ ...base, findings: [f] }, { color: false });
    assert.ok(text.split('\n').every((line) => line.length < 300), 'no line of 300 characters or more');
    assert.ok(text.includes(`wireshark: ${terminalFilter(f)}`));
  });
  it('says what the capture holds when it has no connection, rather than "no problems"', () => {
    const base = { ...buildSampleReport(), findings: [], flows: [] };
    const verdict = (packets: number, tcpPackets: number): string =>
      renderSummary({ ...base, capture: { ...base.capture, packets, tcpPackets } }, { color: false });
    assert.match(verdict(5, 0), /^INFO {2}No TCP in this capture: none of its 5 packets is TCP\.$/m);
    assert.match(verdict(0, 0), /^INFO {2}The capture holds no packets\.$/m);
    assert.match(verdict(9, 1), /^INFO {2}No TCP connection could be followed in 1 TCP packet\.$/m);
    assert.doesNotMatch(verdict(5, 0), /No problems found/);
  });
  it('leads with the worst finding', () => {
    assert.match(renderSummary(buildSampleReport(), { color: false }), /^ERROR {2}Accept queue overflow.* on 10\.0\.0\.2:8080 \(\+2 more problems\)$/m);
  });
  it('says the capture facts in words that agree in number (1 drop, 1 packet, 1 timestamp; 2 drops, 2 packets)', () => {
    const base = buildSampleReport();
    const facts = (n: number): string =>
      renderSummary({ ...base, capture: { ...base.capture, drops: n, truncatedPackets: n, timestampsBackwards: n } }, { color: false });
    assert.match(facts(1), /^ {2}quality: 1 drop reported, 1 packet cut by snaplen, 1 timestamp going backwards$/m);
    assert.match(facts(2), /^ {2}quality: 2 drops reported, 2 packets cut by snaplen, 2 timestamps going backwards$/m);
  });
  it('names the capture-quality warnings the facts line does not (a capture of copies is not just "OK")', () => {
    const base = { ...buildSampleReport(), findings: [] };
    const withItems = (items: { id: string; severity: string; message: string }[]) =>
      renderSummary({ ...base, quality: { items: items.map((i) => ({ ...i, count: 1 })) } } as typeof base, { color: false });
    const text = withItems([
      { id: 'duplicate-frames', severity: 'warning', message: '80000 packets were captured twice.' },
      { id: 'started-mid-connection', severity: 'info', message: '3 connections started before the capture.' },
      { id: 'capture-drops', severity: 'warning', message: 'the capture dropped 5 packets.' },
    ]);
    assert.match(text, /^ {2}quality: 80000 packets were captured twice\.$/m);
    assert.doesNotMatch(text, /started before the capture/, 'info items stay in the report');
    assert.doesNotMatch(text, /dropped 5 packets/, 'drops are said by the facts line');
    assert.match(text, /^OK {2}No problems found/m);
  });
});

describe('renderSummary on a busy capture (more findings than it lists)', () => {
  // 3 errors, 9 warnings and 14 notes of four kinds, counts falling: 26 findings in all.
  const base = buildSampleReport();
  const template = base.findings[0]!;
  const kinds: [string, Severity, number][] = [['accept-overflow-rst', 'error', 3], ['reset', 'warning', 9], ['time-wait-churn', 'info', 10], ['half-close', 'info', 4]];
  const findings: Finding[] = [];
  for (const [id, severity, n] of kinds) {
    for (let i = 0; i < n; i++) {
      findings.push({ ...template, id, severity, title: `${id} title`, endpoint: `10.0.${findings.length}.1:80`, count: 100 - i });
    }
  }
  const report = { ...base, findings };
  const ranked = rankFindings(findings);

  it(`lists the ${DEFAULT_SUMMARY_FINDINGS} most severe in full and counts the rest by severity and kind`, () => {
    const text = renderSummary(report, { color: false, reportPath: 'r.html' });
    assert.match(text, new RegExp(`^Findings \\(26, the first ${DEFAULT_SUMMARY_FINDINGS}\\):$`, 'm'));
    for (const [i, f] of ranked.entries()) {
      const listed = text.includes(`  ${f.endpoint}  [${f.id}]`);
      assert.equal(listed, i < DEFAULT_SUMMARY_FINDINGS, `${f.id} ${f.endpoint} (rank ${i + 1})`);
    }
    // Ranked 11-26: the last 2 warnings, 10 churn and 4 half-close notes.
    assert.match(text, /^ {2}… 16 more findings \(2 warning, 14 info\): time-wait-churn ×10, half-close ×4, reset ×2$/m);
    assert.match(text, /all of them are in the report; --max-findings N lists more here$/m);
    assert.match(text, /Report written to r\.html\n$/);
  });

  it('--max-findings sets how many are listed; Infinity lists all and no tally line', () => {
    const three = renderSummary(report, { color: false, maxFindings: 3 });
    assert.equal(three.split('\n').filter((l) => l.startsWith('  ERROR ') || l.startsWith('  WARNING') || l.startsWith('  INFO ')).length, 3);
    assert.match(three, /^ {2}… 23 more findings \(9 warning, 14 info\): time-wait-churn ×10, reset ×9, half-close ×4$/m);
    assert.match(three, /all of them: tcpmortem report, or analyze --json/);
    const all = renderSummary(report, { color: false, maxFindings: Infinity });
    assert.match(all, /^Findings \(26\):$/m);
    assert.doesNotMatch(all, /more finding/);
    for (const f of findings) assert.ok(all.includes(`  ${f.endpoint}  [${f.id}]`), f.endpoint);
  });
});
