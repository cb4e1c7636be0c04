/**
 * The diagnose stage over a {@link FlowList} that builds a fresh record on every access, like the
 * compact flow store: findings, detector runs and capture quality are the same as over a plain
 * array, and the diagnosis builds about one record per flow (the shared pre-pass walks the list
 * once; detectors fetch only candidates and a few evidence records by position).
 *
 * `FreshFlowList` returns a deep copy on each access, so a detector that compares records by
 * identity, keys a Map by them or mutates them gives different findings here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { analyze } from '../../src/analyze.ts';
import { runDetectors } from '../../src/diagnose/index.ts';
import type { DiagnoseOptions, DiagnoseResult } from '../../src/diagnose/index.ts';
import { addressHash } from '../../src/tcp/flow-summary.ts';
import type { CaptureFacts } from '../../src/report/model.ts';
import type { ConversationOptions } from '../../src/synth/conversation.ts';
import type { FlowRecord } from '../../src/tcp/types.ts';
import { analyzeFile, CAPTURES_DIR } from '../support/analyze-file.ts';
import { FreshFlowList } from '../support/fresh-flow-list.ts';
import { conversationsPcap } from '../support/synthetic-capture.ts';
import { buildFlow, captureFacts, cleanFlow, T0 } from './flow-builder.ts';

/**
 * Records a default diagnosis may build: the pre-pass reads summaries (`scan`) and builds records
 * only of candidates, plus evidence fetches by position (the first connection and the time range
 * of a TIME_WAIT-churn group, say). At most about one per flow.
 */
function maxBuilt(flows: number): number {
  return Math.floor(1.1 * flows) + 500;
}

/** Runs the detectors over the array and over a FreshFlowList of it; asserts the same JSON. */
function diagnoseBoth(
  flows: readonly FlowRecord[],
  capture: CaptureFacts,
  options?: DiagnoseOptions,
): { result: DiagnoseResult; built: number; scanned: number } {
  const overArray = runDetectors({ flows, capture }, options);
  const list = new FreshFlowList(flows);
  const overList = runDetectors({ flows: list, capture }, options);
  assert.equal(JSON.stringify(overList.findings), JSON.stringify(overArray.findings), 'findings');
  assert.equal(JSON.stringify(overList.detectors), JSON.stringify(overArray.detectors), 'detector runs');
  assert.equal(JSON.stringify(overList.quality), JSON.stringify(overArray.quality), 'capture quality');
  return { result: overArray, built: list.built, scanned: list.scanned };
}

/** Flows (materialised once, as the array side of the comparison) and facts of an analysis without diagnosis. */
async function flowsOf(report: Promise<{ flows: Iterable<FlowRecord>; capture: CaptureFacts }>): Promise<{ flows: FlowRecord[]; capture: CaptureFacts }> {
  const { flows, capture } = await report;
  return { flows: Array.from(flows), capture };
}

/**
 * A synthetic capture of a few thousand interleaved connections (our generator and pcap writer):
 * resets, SYN and data retransmissions, mostly server-side closes on a few dozen listeners
 * (TIME_WAIT churn), and a cut at the end that leaves connections open.
 */
const SYNTHETIC: Partial<ConversationOptions> & { readonly snapLength: number } = {
  seed: 20241123,
  conversations: 4000,
  concurrency: 64,
  maxPackets: 44_000,
  snapLength: 128,
  ipv6Fraction: 0.1,
  rstRate: 0.15,
  synRetransmitRate: 0.05,
  retransmitRate: 0.05,
  serverCloseRate: 0.9,
  exchanges: [1, 2],
  responseBytes: [200, 4000],
};

describe('diagnosis over a FlowList that builds a fresh record on every access', () => {
  const captures = readdirSync(CAPTURES_DIR)
    .filter((name) => name.endsWith('.pcap'))
    .sort();

  it('has kernel fixture captures to run on', () => {
    assert.ok(captures.length > 0, `no .pcap in ${CAPTURES_DIR}`);
  });

  for (const name of captures) {
    it(`${name}: same findings, detector runs and quality as over an array, about one record built per flow`, async () => {
      const { flows, capture } = await flowsOf(analyzeFile(join(CAPTURES_DIR, name), { skipDiagnosis: true }));
      const { built, scanned } = diagnoseBoth(flows, capture);
      assert.equal(scanned, flows.length, 'the pre-pass scans every flow once');
      assert.ok(built <= maxBuilt(flows.length), `${built} records built for ${flows.length} flows`);
    });
  }

  describe('a synthetic capture of a few thousand connections', () => {
    // Analysed once, on first use, for both tests.
    let analysed: Promise<{ flows: FlowRecord[]; capture: CaptureFacts }> | undefined;
    const syntheticFlows = (): Promise<{ flows: FlowRecord[]; capture: CaptureFacts }> =>
      (analysed ??= flowsOf(analyze(Readable.from([conversationsPcap(SYNTHETIC)]), { file: 'synthetic.pcap', skipDiagnosis: true })));

    it('same findings as over an array, at most one pass plus candidate fetches', async () => {
      const { flows, capture } = await syntheticFlows();
      assert.ok(flows.length >= 3000, `${flows.length} flows`);
      const { result, built, scanned } = diagnoseBoth(flows, capture);
      // The capture exercises the candidate lists and the fetches by position, not only the pass.
      const ids = new Set(result.findings.map((f) => f.id));
      for (const id of ['reset', 'syn-retransmit', 'time-wait-churn']) assert.ok(ids.has(id), `a ${id} finding`);
      assert.deepEqual(result.detectors.filter((d) => d.status === 'error'), []);
      assert.equal(scanned, flows.length, 'the pre-pass scans every flow once');
      assert.ok(built <= maxBuilt(flows.length), `${built} records built for ${flows.length} flows`);
      // Most flows of this capture are routine: the pass builds no record of them.
      assert.ok(built < flows.length / 2, `${built} records built for ${flows.length} flows, most of them routine`);
    });

    it('thresholds below 1 (every flow a candidate: the list is walked again) give the same findings', async () => {
      const { flows, capture } = await syntheticFlows();
      diagnoseBoth(flows, capture, {
        thresholds: {
          'syn-retransmit': { minRetransmissions: 0 },
          'synack-retransmit': { minRetransmissions: 0 },
          'accept-overflow-drop': { minSynAckResends: 0 },
          'fin-retransmit': { minRetransmissions: 0 },
          'data-unacked': { minUnackedBytes: 0 },
          'half-close': { minBytesAfterFin: 0 },
          'port-scan': { minTargets: 0, minProbeFraction: 0.5 },
          'time-wait-churn': { minConnections: 2 },
          'syn-flood': { minHalfOpen: 1, minDistinctSources: 1, minHalfOpenFraction: 0 },
        },
      });
    });
  });
});

describe('client addresses kept as hashes: two addresses with the same hash stay apart', () => {
  // Two address texts with the same FNV-1a hash (found by search over 10.x.y.z).
  const A = '10.0.107.237';
  const B = '10.2.219.40';

  it('the two texts share a hash', () => {
    assert.equal(addressHash(A), addressHash(B));
  });

  /** `count` short client-closed connections to one service, from B where `isB` says so, else from A. */
  function churn(count: number, isB: (k: number) => boolean): FlowRecord[] {
    const flows: FlowRecord[] = [];
    for (let k = 0; k < count; k++) flows.push(cleanFlow(k + 1, T0 + k * 0.1, { client: { ip: isB(k) ? B : A, port: 30_000 + k } }));
    return flows;
  }

  it('time-wait-churn groups client closes by exact address: 120 from A reported, 60 from B not', () => {
    const flows = churn(180, (k) => k % 3 === 2);
    const { result, built } = diagnoseBoth(flows, captureFacts());
    const found = result.findings.filter((f) => f.id === 'time-wait-churn').map((f) => [f.details?.['host'], f.details?.['closer'], f.count]);
    assert.deepEqual(found, [[A, 'client', 120]]);
    // The connections of the shared hash were fetched once more to read their address (then the
    // finding's first connection and time range): evidence of the finding, not another pass.
    assert.ok(built <= 2 * flows.length + 10, `${built} records built for ${flows.length} flows`);
  });

  it('time-wait-churn: 100 from each address are two findings of 100, not one of 200', () => {
    const found = diagnoseBoth(churn(200, (k) => k % 2 === 1), captureFacts())
      .result.findings.filter((f) => f.id === 'time-wait-churn')
      .map((f) => [f.details?.['host'], f.count]);
    assert.deepEqual(found, [
      [A, 100],
      [B, 100],
    ]);
  });

  /**
   * B's connections with data first, then A probes 10 services (each refused) and opens
   * `aNormal` connections with data.
   */
  function scan(aNormal: number): FlowRecord[] {
    const flows: FlowRecord[] = [];
    let id = 1;
    for (let k = 0; k < 5; k++, id++) flows.push(cleanFlow(id, T0 + id, { client: { ip: B, port: 30_000 + id } }));
    for (let k = 0; k < 10; k++, id++) {
      flows.push(
        buildFlow({
          id,
          startSeconds: T0 + id,
          client: { ip: A, port: 30_000 + id },
          server: { ip: '10.0.0.9', port: 1000 + k },
          segments: [
            [0, 'client', 'S', 0, -1, 0],
            [0.0001, 'server', 'RA', 0, 1, 0],
          ],
        }),
      );
    }
    for (let k = 0; k < aNormal; k++, id++) flows.push(cleanFlow(id, T0 + id, { client: { ip: A, port: 30_000 + id } }));
    return flows;
  }

  it('port-scan counts a source\'s connections by exact address: 10 probes of 12 is a scan', () => {
    // Counting B's 5 connections as A's would make 10 of 17 (below the 0.8 share): no scan.
    const { result } = diagnoseBoth(scan(2), captureFacts());
    assert.deepEqual(
      result.findings.filter((f) => f.id === 'port-scan').map((f) => [f.endpoint, f.count]),
      [[A, 10]],
    );
    assert.deepEqual(result.findings.filter((f) => f.id === 'connection-refused'), []);
  });

  it('port-scan: 10 probes of 13 is no scan, and the refusals are reported as such', () => {
    const { result } = diagnoseBoth(scan(3), captureFacts());
    assert.deepEqual(result.findings.filter((f) => f.id === 'port-scan'), []);
    assert.equal(result.findings.filter((f) => f.id === 'connection-refused').length, 10);
  });
});
