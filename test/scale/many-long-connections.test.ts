/**
 * Many long connections open at once, as on a busy server (a proxy, a database) with keep-alive
 * clients: every one keeps its full per-flow detail while live (64 segment samples, see
 * maxHeadSamples and maxTailSamples), so what a live flow costs decides the peak. Connections are
 * opened first, then each exchanges `ROUNDS` request/response pairs in turn; none closes.
 *
 * `TCPMORTEM_SCALE_CONNECTIONS` sets how many (default 16,000: 1.33 M packets). This test's
 * process peaked at 336 MB when a sample took 10 numbers and sample arrays doubled past the head's
 * size (12.5 KB per live connection), and at 253 MB with 6 numbers and arrays that stop at the
 * head's size (~6.9 KB). Asserts bounds, never times.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/analyze.ts';
import { DEFAULT_FLOW_TRACKER_OPTIONS } from '../../src/tcp/index.ts';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/decode/types.ts';
import { SyntheticCapture } from '../support/synthetic-capture.ts';

const CONNECTIONS = Number(process.env['TCPMORTEM_SCALE_CONNECTIONS'] ?? 16_000);
const ROUNDS = 40;
const RSS_LIMIT_BYTES = 300 * 1024 * 1024;
/** 192.0.2.80:443, as the frame writer's address words (IPv4-mapped). */
const SERVER: [number, number, number, number] = [0, 0, 0xffff, 0xc0000250];

async function* longConnections(connections: number, rounds: number): AsyncGenerator<Uint8Array> {
  const capture = new SyntheticCapture(96, 20_000); // 20 µs per packet
  const f = capture.fields;
  let ipId = 0;
  const send = (i: number, fromClient: boolean, flags: number, seq: number, ack: number, payload: number): void => {
    const client: [number, number, number, number] = [0, 0, 0xffff, (0x0a000000 + i) >>> 0];
    f.src = fromClient ? client : [...SERVER];
    f.dst = fromClient ? [...SERVER] : client;
    f.srcPort = fromClient ? 40_000 : 443;
    f.dstPort = fromClient ? 443 : 40_000;
    f.flags = flags;
    f.seq = seq >>> 0;
    f.ack = ack >>> 0;
    f.payloadLength = payload;
    f.ipId = ipId++ & 0xffff;
    capture.send();
  };
  for (let i = 0; i < connections; i++) {
    send(i, true, TCP_SYN, 1000, 0, 0);
    send(i, false, TCP_SYN | TCP_ACK, 5000, 1001, 0);
    send(i, true, TCP_ACK, 1001, 5001, 0);
    if (capture.pendingBytes > 1 << 20) yield capture.drain();
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < connections; i++) {
      send(i, true, TCP_PSH | TCP_ACK, 1001 + r * 10, 5001 + r * 20, 10);
      send(i, false, TCP_PSH | TCP_ACK, 5001 + r * 20, 1011 + r * 10, 20);
      if (capture.pendingBytes > 1 << 20) yield capture.drain();
    }
  }
  yield capture.drain();
}

describe('scale: many long connections open at once', () => {
  it(`${CONNECTIONS.toLocaleString('en-US')} connections of ${3 + 2 * ROUNDS} packets, all open at the end: exact, samples bounded, RSS under 300 MB`, async () => {
    const report = await analyze(longConnections(CONNECTIONS, ROUNDS), { file: 'long-connections', jobs: 1 });
    const packets = 3 + 2 * ROUNDS;
    assert.equal(report.capture.tcpPackets, CONNECTIONS * packets);
    assert.equal(report.flows.length, CONNECTIONS);
    const { maxHeadSamples, maxTailSamples, keepRoutineSamplesOfFirstFlows } = DEFAULT_FLOW_TRACKER_OPTIONS;
    let position = 0;
    for (const flow of report.flows) {
      position++;
      assert.equal(flow.id, position);
      assert.deepEqual(flow.finalState, { client: 'ESTABLISHED', server: 'ESTABLISHED' });
      assert.equal(flow.closeReason, 'end_of_capture');
      assert.equal(flow.packets.client + flow.packets.server, packets);
      assert.equal(flow.counts.dataBytesClient, ROUNDS * 10);
      assert.equal(flow.counts.dataBytesServer, ROUNDS * 20);
      // Routine connections keep their samples only among the first few (the report's examples).
      const kept = flow.id <= keepRoutineSamplesOfFirstFlows ? maxHeadSamples + maxTailSamples : 0;
      assert.equal(flow.segments.length, kept, `flow ${flow.id}: samples kept`);
      assert.equal(flow.segmentsOmitted, packets - kept);
      if (kept > 0) {
        // The head's first segment and the tail's last one, unpacked from the live samples exactly.
        const first = flow.segments[0]!;
        assert.deepEqual([first.frame, first.from, first.flags, first.seq, first.ack, first.len], [flow.firstFrame, 'client', 'S', 0, -1, 0]);
        const last = flow.segments[flow.segments.length - 1]!;
        const relSeconds = Math.round((flow.endSeconds - flow.startSeconds) * 1e6) / 1e6;
        assert.deepEqual(
          [last.frame, last.from, last.flags, last.len, last.seq, last.ack, last.relSeconds],
          [flow.lastFrame, 'server', 'PA', 20, 1 + (ROUNDS - 1) * 20, 1 + ROUNDS * 10, relSeconds],
        );
      }
    }
    const peak = process.resourceUsage().maxRSS * 1024;
    assert.ok(peak < RSS_LIMIT_BYTES, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
  });
});
