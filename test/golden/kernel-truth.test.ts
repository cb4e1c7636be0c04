/**
 * The kernel scenario captures (fixtures/captures, made in network namespaces by
 * fixtures/scenarios/kernel/run.sh) against their ground truth (fixtures/expected/*.truth.json),
 * which was recorded from what the programs did and what `ss`/`nstat` saw, never from the capture.
 *
 * Per connection: handshake outcome, both final states, SYN / SYN-ACK / FIN retransmissions, and
 * incarnations split exactly as the script made them. Per scenario: exactly the findings the truth
 * names, on the right endpoint, for the right number of connections.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFile, CAPTURES_DIR, EXPECTED_DIR } from '../support/analyze-file.ts';
import type { FlowRecord } from '../../src/tcp/types.ts';

interface TruthConnection {
  index: number;
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  incarnation: number;
  handshake: string;
  finalState: { client: string; server: string };
  synRetransmissions: number;
  synAckRetransmissions: number;
  finRetransmissions: number;
  resetBy: 'client' | 'server' | null;
}

interface Truth {
  scenario: string;
  connections: TruthConnection[];
  expectedFindings: { id: string; endpoint: string; connections: number; severity?: string }[];
}

const truths = existsSync(EXPECTED_DIR) ? readdirSync(EXPECTED_DIR).filter((f) => f.endsWith('.truth.json')).sort() : [];

function findFlow(flows: readonly FlowRecord[], c: TruthConnection): FlowRecord | undefined {
  return flows.find(
    (f) =>
      f.client.ip === c.client.ip &&
      f.client.port === c.client.port &&
      f.server.ip === c.server.ip &&
      f.server.port === c.server.port &&
      f.incarnation === c.incarnation,
  );
}

describe('kernel scenarios match their ground truth', () => {
  for (const file of truths) {
    const truth = JSON.parse(readFileSync(join(EXPECTED_DIR, file), 'utf8')) as Truth;
    describe(truth.scenario, () => {
      let flowsPromise: ReturnType<typeof analyzeFile> | undefined;
      const report = () => (flowsPromise ??= analyzeFile(join(CAPTURES_DIR, `${truth.scenario}.pcap`)));

      it('splits connections and incarnations exactly as the script made them', async () => {
        const r = await report();
        const flows = [...r.flows];
        assert.equal(flows.length, truth.connections.length, 'number of flows');
        for (const c of truth.connections) {
          assert.ok(findFlow(flows, c), `connection #${c.index} ${c.client.ip}:${c.client.port} incarnation ${c.incarnation} not found`);
        }
      });

      it('gives each connection the handshake, final states and retransmission counts of the truth', async () => {
        const r = await report();
        const flows = [...r.flows];
        const mismatches: string[] = [];
        for (const c of truth.connections) {
          const f = findFlow(flows, c);
          if (f === undefined) continue;
          const got = {
            handshake: f.handshake,
            client: f.finalState.client,
            server: f.finalState.server,
            syn: f.counts.synRetransmissions,
            synAck: f.counts.synAckRetransmissions,
            fin: f.counts.finRetransmissions,
          };
          const want = {
            handshake: c.handshake,
            client: c.finalState.client,
            server: c.finalState.server,
            syn: c.synRetransmissions,
            synAck: c.synAckRetransmissions,
            fin: c.finRetransmissions,
          };
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            mismatches.push(`#${c.index} :${c.client.port} inc ${c.incarnation}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
          }
        }
        assert.deepEqual(mismatches, []);
      });

      it('yields exactly the findings the truth names, on the right endpoint and connections', async () => {
        const r = await report();
        const got = r.findings.map((f) => `${f.id} ${f.endpoint} ${f.count}`).sort();
        const want = truth.expectedFindings.map((e) => `${e.id} ${e.endpoint} ${e.connections}`).sort();
        assert.deepEqual(got, want);
      });
    });
  }
});
