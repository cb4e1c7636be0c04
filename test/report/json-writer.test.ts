/**
 * The streaming JSON writer is byte-identical to `${JSON.stringify(report, null, 2)}\n` on the
 * kernel fixture results, on an empty report and on odd top-level members, whether the flows are
 * an array or a FreshFlowList (read once each), and its chunks are batched and wait for `write`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { batchChunks, JSON_CHUNK_CHARS, reportJsonChunks, reportJsonDocument, writeReportJson } from '../../src/report/json-writer.ts';
import { anonymizeReport } from '../../src/report/anonymize.ts';
import type { AnalysisReport } from '../../src/report/model.ts';
import { SCHEMA } from '../../src/report/model.ts';
import { FreshFlowList } from '../support/fresh-flow-list.ts';
import { buildSyntheticReport } from './sample-report.ts';
import { reportsUnderTest } from './reports.ts';
import { captureFacts } from '../diagnose/flow-builder.ts';

/** What the CLI wrote before the streaming writer. */
function expectedDocument(report: AnalysisReport): string {
  return `${JSON.stringify({ ...report, flows: [...report.flows] }, null, 2)}\n`;
}

async function written(report: AnalysisReport): Promise<{ text: string; chunks: string[] }> {
  const chunks: string[] = [];
  await writeReportJson(report, (chunk) => {
    chunks.push(chunk);
  });
  return { text: chunks.join(''), chunks };
}

const EMPTY: AnalysisReport = {
  schema: SCHEMA,
  tool: { name: 'tcpmortem', version: '0.0.0' },
  capture: captureFacts({ file: '-', linkTypes: [], firstTs: null }),
  flows: [],
  findings: [],
  detectors: [],
};

const scenarios = await reportsUnderTest();

describe('writeReportJson', () => {
  for (const [name, report] of scenarios) {
    it(`is byte-identical to JSON.stringify (${name}), from an array and from a FreshFlowList read once`, async () => {
      const expected = expectedDocument(report);
      assert.equal((await written(report)).text, expected);
      const flows = new FreshFlowList([...report.flows]);
      assert.equal((await written({ ...report, flows })).text, expected);
      assert.equal(flows.built, report.flows.length, 'each flow built once');
      const anonymized = anonymizeReport({ ...report, flows: new FreshFlowList([...report.flows]) }, 'k');
      assert.equal((await written(anonymized)).text, expectedDocument(anonymizeReport(report, 'k')));
    });
  }

  it('is byte-identical on an empty report, and with empty findings but flows, and the reverse', async () => {
    assert.equal((await written(EMPTY)).text, `${JSON.stringify(EMPTY, null, 2)}\n`);
    const one = (await reportsUnderTest(['clean-close-client']))[0]![1];
    const onlyFlows = { ...EMPTY, flows: new FreshFlowList([...one.flows]) };
    assert.equal((await written(onlyFlows)).text, expectedDocument(onlyFlows));
    const onlyFindings = { ...one, flows: [] };
    assert.equal((await written(onlyFindings)).text, expectedDocument(onlyFindings));
  });

  it('follows JSON.stringify on top-level members: order, undefined members left out, optional sections', async () => {
    const odd = { quality: { items: [] }, ...EMPTY, extra: undefined, note: 'a "quoted"\nline\u2028' } as unknown as AnalysisReport;
    assert.equal((await written(odd)).text, `${JSON.stringify(odd, null, 2)}\n`);
    assert.equal([...reportJsonChunks(odd)].join(''), JSON.stringify(odd, null, 2));
  });

  it('nests a report at any depth like JSON.stringify of an enclosing object', async () => {
    const report = (await reportsUnderTest(['close-wait-leak']))[0]![1];
    const enclosing = JSON.stringify({ file: 'x', status: 'ok', report }, null, 2);
    const head = `{\n  "file": "x",\n  "status": "ok",\n  "report": `;
    assert.equal(`${head}${[...reportJsonChunks({ ...report, flows: new FreshFlowList([...report.flows]) }, 2)].join('')}\n}`, enclosing);
  });

  it('batches into chunks of about 64 KiB and waits for each write to settle', async () => {
    const report = buildSyntheticReport(400);
    const { text, chunks } = await written(report);
    assert.equal(text, expectedDocument(report));
    assert.ok(chunks.length > 2, `${chunks.length} chunks`);
    for (const c of chunks.slice(0, -1)) assert.ok(c.length >= JSON_CHUNK_CHARS && c.length < 2 * JSON_CHUNK_CHARS, `${c.length}`);
    let pending = 0;
    let maxPending = 0;
    await writeReportJson(report, async () => {
      pending += 1;
      maxPending = Math.max(maxPending, pending);
      await new Promise((resolve) => setTimeout(resolve, 1));
      pending -= 1;
    });
    assert.equal(maxPending, 1, 'one write in flight at a time');
    assert.deepEqual([...batchChunks(['a', 'b', 'cd', ''], 2)], ['ab', 'cd']);
    assert.deepEqual([...batchChunks([], 2)], []);
    assert.equal([...reportJsonDocument(report)].join(''), text);
  });
});
