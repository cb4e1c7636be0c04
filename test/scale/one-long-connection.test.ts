/**
 * One connection of millions of segments: per-flow memory stays bounded (transitions and segment
 * samples are capped, the rest counted), counts stay exact, and peak RSS stays under a bound.
 *
 * `TCPMORTEM_SCALE_SEGMENTS` sets the number of data segments and ACKs (default 10,000,000, the
 * issue's figure: about 5 s here). Asserts bounds, never times.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/analyze.ts';
import { PcapWriter } from '../../src/capture/index.ts';
import { createTcpFrameFields, TcpFrameWriter } from '../../src/synth/index.ts';
import { DEFAULT_FLOW_TRACKER_OPTIONS } from '../../src/tcp/index.ts';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../src/decode/types.ts';

const SEGMENTS = Number(process.env['TCPMORTEM_SCALE_SEGMENTS'] ?? 10_000_000);
const RSS_LIMIT_BYTES = 300 * 1024 * 1024;
const PAYLOAD_BYTES = 100;

/**
 * The capture, generated as it is read: handshake, then `segments` packets alternating a client
 * data segment and the server's ACK of it, then FIN, FIN, ACK.
 * Every packet is a new segment (its seq or ack moves, its IPv4 id changes), so none is a copy.
 */
async function* oneLongConnection(segments: number): AsyncGenerator<Uint8Array> {
  const writer = new PcapWriter({ snapLength: 128 });
  const frames = new TcpFrameWriter();
  const f = createTcpFrameFields();
  const client = { src: f.src, dst: f.dst, srcPort: f.srcPort, dstPort: f.dstPort };
  const packet = { tsSec: 1_700_000_000, tsNanos: 0, data: new Uint8Array(0) as Uint8Array, originalLength: 0 };
  let clock = 0;
  let clientSeq = 1000;
  let serverSeq = 5000;
  let ipId = 0;
  const send = (fromClient: boolean, flags: number, seq: number, ack: number, payload: number): void => {
    f.src = fromClient ? client.src : client.dst;
    f.dst = fromClient ? client.dst : client.src;
    f.srcPort = fromClient ? client.srcPort : client.dstPort;
    f.dstPort = fromClient ? client.dstPort : client.srcPort;
    f.flags = flags;
    f.seq = seq >>> 0;
    f.ack = ack >>> 0;
    f.payloadLength = payload;
    f.ipId = ipId++ & 0xffff;
    clock += 10_000; // 10 µs per packet
    packet.tsSec = 1_700_000_000 + Math.floor(clock / 1e9);
    packet.tsNanos = clock % 1e9;
    packet.data = frames.write(f, 128);
    packet.originalLength = frames.originalLength;
    writer.writePacket(packet);
  };
  send(true, TCP_SYN, clientSeq, 0, 0);
  send(false, TCP_SYN | TCP_ACK, serverSeq, clientSeq + 1, 0);
  clientSeq++;
  serverSeq++;
  send(true, TCP_ACK, clientSeq, serverSeq, 0);
  for (let i = 0; i < segments; i++) {
    if (i % 2 === 0) {
      send(true, TCP_PSH | TCP_ACK, clientSeq, serverSeq, PAYLOAD_BYTES);
      clientSeq += PAYLOAD_BYTES;
    } else {
      send(false, TCP_ACK, serverSeq, clientSeq, 0);
    }
    if (writer.pendingBytes > 1 << 20) yield writer.drain();
  }
  send(true, TCP_FIN | TCP_ACK, clientSeq, serverSeq, 0);
  send(false, TCP_FIN | TCP_ACK, serverSeq, clientSeq + 1, 0);
  send(true, TCP_ACK, clientSeq + 1, serverSeq + 1, 0);
  yield writer.drain();
}

describe('scale: one connection of many segments', () => {
  it(`${SEGMENTS.toLocaleString('en-US')} segments: counts exact, transitions and samples capped, RSS under 300 MB`, async () => {
    const report = await analyze(oneLongConnection(SEGMENTS), { file: 'one-long-connection' });
    const clientPackets = 2 + Math.ceil(SEGMENTS / 2) + 1; // SYN, ACK, data, FIN; final ACK below
    const serverPackets = 1 + Math.floor(SEGMENTS / 2) + 1; // SYN-ACK, ACKs, FIN
    assert.equal(report.capture.packets, SEGMENTS + 6);
    assert.equal(report.capture.tcpPackets, SEGMENTS + 6);
    assert.deepEqual(report.capture.anomalies, {}, 'no packet is taken for a copy or an anomaly');
    assert.equal(report.flows.length, 1);
    const flow = report.flows.at(0)!;
    assert.deepEqual(flow.packets, { client: clientPackets + 1, server: serverPackets });
    assert.equal(flow.bytes.client >= Math.ceil(SEGMENTS / 2) * PAYLOAD_BYTES, true);
    assert.equal(flow.counts.dataBytesClient, Math.ceil(SEGMENTS / 2) * PAYLOAD_BYTES);
    assert.equal(flow.finalState.client, 'TIME_WAIT');
    assert.equal(flow.finalState.server, 'CLOSED');
    assert.ok(flow.transitions.length <= DEFAULT_FLOW_TRACKER_OPTIONS.maxTransitionsPerFlow);
    assert.equal(flow.transitionsOmitted, 0, 'a clean connection has few transitions');
    const samples = DEFAULT_FLOW_TRACKER_OPTIONS.maxHeadSamples + DEFAULT_FLOW_TRACKER_OPTIONS.maxTailSamples;
    assert.equal(flow.segments.length, samples);
    assert.equal(flow.segments.length + flow.segmentsOmitted, SEGMENTS + 6, 'every segment sampled or counted');
    assert.equal(flow.segments.at(-1)?.frame, SEGMENTS + 6, 'the tail sample ends at the last packet');
    assert.ok(flow.history.length < 64, `history stays short: ${flow.history}`);
    assert.ok(JSON.stringify(report).length < 1 << 20, 'the result does not grow with the segment count');
    const peak = process.resourceUsage().maxRSS * 1024;
    assert.ok(peak < RSS_LIMIT_BYTES, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
  });
});
