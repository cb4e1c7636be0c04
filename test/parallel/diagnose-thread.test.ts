/**
 * The diagnosis on a second core (`tcpmortem report` with several jobs, see diagnoseForReport):
 * the detectors in a worker thread reading the flows through shared memory, the report's pass over
 * the flows made meanwhile without the findings. The findings and the HTML must be those of one
 * thread, byte for byte: on a generated capture of thousands of connections, and on the kernel
 * scenario captures with view caps small enough that they take the two-thread path too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { analyze, diagnoseForReport } from '../../src/analyze.ts';
import { DiagnosisThread } from '../../src/parallel/diagnose-thread.ts';
import { renderHtml } from '../../src/report/render-html.ts';
import type { ReportViewOptions } from '../../src/report/view-model.ts';
import { reportJsonDocument } from '../../src/report/json-writer.ts';
import { conversationsPcap } from '../support/synthetic-capture.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPTURES_DIR } from '../support/analyze-file.ts';

async function jsonOf(report: Parameters<typeof reportJsonDocument>[0]): Promise<string> {
  let text = '';
  for await (const chunk of reportJsonDocument(report)) text += chunk;
  return text;
}

/** One thread (analyze with its detectors, renderHtml's own pass) against two (see the module comment). */
async function compare(bytes: Uint8Array, jobs: number, view: Partial<ReportViewOptions> = {}, prestart = false): Promise<{ flows: number; findings: number; pass: boolean }> {
  const one = await analyze(Readable.from([bytes]), { file: 'x.pcap', jobs: 1 });
  // Started before the analysis, as the CLI does.
  const thread = prestart ? new DiagnosisThread() : undefined;
  // Shared memory, as the CLI asks for with several jobs (one job: no second thread anyway).
  const bare = await analyze(Readable.from([bytes]), { file: 'x.pcap', jobs, skipDiagnosis: true, sharedMemory: jobs > 1 });
  const { report: two, viewPass } = await diagnoseForReport(bare, { jobs: 2, view, ...(thread === undefined ? {} : { thread }) });
  assert.equal(await jsonOf(two), await jsonOf(one), 'the JSON document (findings included)');
  assert.equal(renderHtml(two, view, viewPass), renderHtml(one, view), 'the HTML report');
  return { flows: one.flows.length, findings: one.findings.length, pass: viewPass !== undefined };
}

describe('diagnosis on a second core gives the result of one thread', () => {
  it('4,000 generated connections (resets, SYN retransmissions, many services), tracked with 1 and 2 jobs', async () => {
    const bytes = conversationsPcap({ seed: 7, conversations: 4000, concurrency: 64, snapLength: 128, rstRate: 0.2, synRetransmitRate: 0.05, exchanges: [1, 2], responseBytes: [100, 3000] });
    for (const jobs of [1, 2]) {
      const r = await compare(bytes, jobs, {}, jobs === 2);
      // One job keeps the flows in ordinary memory (see FlowStoreOptions.sharedMemory): no thread.
      assert.equal(r.pass, jobs === 2, 'the view pass was made beside the diagnosis');
      assert.ok(r.flows >= 4000 && r.findings >= 20, `${r.flows} flows, ${r.findings} findings`);
    }
  });

  it('a capture of a few hundred flows or fewer stays on one thread (its swimlane rows need the findings)', async () => {
    const bytes = conversationsPcap({ seed: 3, conversations: 200, snapLength: 128 });
    const r = await compare(bytes, 2, {}, true);
    assert.equal(r.pass, false);
  });

  it('every kernel scenario, with view caps that send it through the two-thread path', async () => {
    // One swimlane row at most: every scenario with 2 flows or more takes the path; the small
    // table, host and service caps make the pass's choices (first flows, candidates) matter.
    const view = { maxSwimlaneRows: 1, maxTableRows: 2, maxHosts: 1, maxServices: 1, trackedHosts: 1 };
    let passed = 0;
    let expected = 0;
    for (const file of readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.pcap')).sort()) {
      const r = await compare(readFileSync(join(CAPTURES_DIR, file)), 2, view);
      if (r.flows > view.maxSwimlaneRows) expected += 1;
      if (r.pass) passed += 1;
    }
    assert.equal(passed, expected);
    assert.ok(passed >= 8, `${passed} scenarios took the two-thread path`);
  });
});

describe('a failure in the diagnosis thread', () => {
  it('rejects with one line (no stack trace), and a thread that is not used is closed', async () => {
    const bytes = conversationsPcap({ seed: 5, conversations: 400, snapLength: 128 });
    const bare = await analyze(Readable.from([bytes]), { file: 'x.pcap', jobs: 2, skipDiagnosis: true, sharedMemory: true });
    // Capture facts the detectors cannot read: the worker's runDetectors throws.
    const pending = new DiagnosisThread().run({ flows: bare.flows, capture: null as unknown as typeof bare.capture });
    assert.ok(pending !== undefined, 'the flows are shared');
    await assert.rejects(pending, (error: Error) => {
      assert.match(error.message, /^diagnosis thread failed: /);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
    // Records (not an analysis's store) cannot be shared: no thread runs, the caller diagnoses.
    const unused = new DiagnosisThread();
    assert.equal(unused.run({ flows: [...bare.flows], capture: bare.capture }), undefined);
    unused.close();
  });
});
