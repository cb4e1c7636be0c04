/**
 * The findings overview: a report with many findings opens its findings section with one row per
 * kind (detector id): how many findings, their occurrences, and links to the first ones. Checked
 * on a generated capture busy enough for dozens of findings of several kinds (resets and SYN
 * retransmissions on many services), and absent from a kernel scenario with one finding.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { analyze } from '../../src/analyze.ts';
import { FINDING_OVERVIEW_FROM, renderHtml } from '../../src/report/render-html.ts';
import { OVERVIEW_ENDPOINTS, rankFindings } from '../../src/report/view-model.ts';
import { conversationsPcap } from '../support/synthetic-capture.ts';
import { scenarioReport } from './reports.ts';

/** 4,000 generated connections (fixed seed) to many services, a fifth reset, some SYNs resent. */
function busyCapture(): Uint8Array {
  return conversationsPcap({ seed: 7, conversations: 4000, concurrency: 64, snapLength: 128, rstRate: 0.2, synRetransmitRate: 0.05, exchanges: [1, 2], responseBytes: [100, 3000] });
}

/** The overview table's rows: [kind id, findings, occurrences, linked anchors, "+N more" or 0]. */
function overviewRows(html: string): [string, number, number, string[], number][] {
  const table = /<table class="finding-kinds"[\s\S]*?<\/table>/.exec(html)?.[0];
  if (table === undefined) return [];
  return [...table.matchAll(/<tr><td>[\s\S]*?<span class="fid">([\w-]+)<\/span><\/td><td>([\d,]+)<\/td><td>([\d,]+)<\/td><td>([\s\S]*?)<\/td><\/tr>/g)].map((m) => [
    m[1]!,
    Number(m[2]!.replace(/,/g, '')),
    Number(m[3]!.replace(/,/g, '')),
    [...m[4]!.matchAll(/href="#([\w-]+)"/g)].map((a) => a[1]!),
    Number(/\+([\d,]+) more/.exec(m[4]!)?.[1]?.replace(/,/g, '') ?? 0),
  ]);
}

describe('findings overview', () => {
  it('a busy capture: one row per kind, most severe kind first, counts that add up, links to the findings', async () => {
    const report = await analyze(Readable.from([busyCapture()]), { file: 'busy.pcap' });
    const ranked = rankFindings(report.findings);
    const kinds = [...new Set(ranked.map((f) => f.id))];
    assert.ok(ranked.length >= 20 && kinds.length >= 2, `${ranked.length} findings of ${kinds.length} kinds`);
    const html = renderHtml(report);
    const rows = overviewRows(html);
    // In the order of each kind's first finding in the report.
    assert.deepEqual(rows.map((r) => r[0]), kinds);
    for (const [id, findings, occurrences, anchors, more] of rows) {
      const ofKind = ranked.filter((f) => f.id === id);
      assert.equal(findings, ofKind.length, id);
      assert.equal(occurrences, ofKind.reduce((n, f) => n + f.count, 0), id);
      assert.equal(anchors.length, Math.min(OVERVIEW_ENDPOINTS, ofKind.length), id);
      assert.equal(more, ofKind.length - anchors.length, id);
      // Each link goes to the card (or short row) of that kind's next finding in rank order.
      anchors.forEach((anchor, i) => {
        assert.equal(anchor, `finding-${ranked.indexOf(ofKind[i]!) + 1}`, `${id} link ${i}`);
        assert.match(html, new RegExp(`id="${anchor}"[^>]*>[\\s\\S]{0,400}?${id}`), `${anchor} exists and is a ${id} finding`);
      });
    }
    assert.equal(rows.reduce((n, r) => n + r[1], 0), ranked.length);
  });

  it(`not shown under ${FINDING_OVERVIEW_FROM} findings (they fit on a screen as they are)`, async () => {
    const report = await scenarioReport('close-wait-leak');
    assert.ok(report.findings.length > 0 && report.findings.length < FINDING_OVERVIEW_FROM);
    assert.doesNotMatch(renderHtml(report), /class="finding-kinds"/);
  });
});
