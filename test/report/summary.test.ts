import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderSummary } from '../../src/report/render-summary.ts';
import { buildSampleReport } from './sample-report.ts';
import { reportsUnderTest } from './reports.ts';

for (const [name, report] of await reportsUnderTest()) {
  describe(`renderSummary (${name})`, () => {
    it('plain text without colour: facts, every finding with count and endpoint, report path', () => {
      const text = renderSummary(report, { color: false, reportPath: 'out/report.html' });
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
  it('leads with the worst finding', () => {
    assert.match(renderSummary(buildSampleReport(), { color: false }), /^ERROR {2}Accept queue overflow.* on 10\.0\.0\.2:8080 \(\+2 more problems\)$/m);
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
