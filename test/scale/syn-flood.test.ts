/**
 * A SYN flood from millions of spoofed sources: once a listener has `synFloodOutstanding`
 * unanswered SYNs, its new SYN-only connections wait on a capped list and, unanswered, are counted
 * per listener instead of kept; peak RSS stays bounded, the `syn-flood` finding still gives exact
 * totals, and the output is the same for any `--jobs`.
 *
 * `TCPMORTEM_SCALE_SYNS` sets the flood's size (default 10,000,000, the figure). Asserts
 * bounds, never times.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/analyze.ts';
import type { AnalyzeOptions } from '../../src/analyze.ts';
import { PcapWriter } from '../../src/capture/index.ts';
import { createTcpFrameFields, TcpFrameWriter } from '../../src/synth/index.ts';
import { TCP_ACK, TCP_SYN } from '../../src/decode/types.ts';
import type { AnalysisReport } from '../../src/report/model.ts';
import { DEFAULT_FLOW_TRACKER_OPTIONS } from '../../src/tcp/index.ts';

const SYNS = Number(process.env['TCPMORTEM_SCALE_SYNS'] ?? 10_000_000);
const RSS_LIMIT_BYTES = 300 * 1024 * 1024;

/** 192.0.2.80, as the frame writer's address words (IPv4-mapped). */
const SERVER: [number, number, number, number] = [0, 0, 0xffff, 0xc0000250];

/**
 * `syns` SYNs to 192.0.2.80:80, each from its own spoofed address in 10/8 (never answered), 10 µs
 * apart; then one connection that completes (SYN, SYN-ACK, ACK from 198.51.100.7:50000).
 */
async function* flood(syns: number, answered = false): AsyncGenerator<Uint8Array> {
  const writer = new PcapWriter({ snapLength: 96 });
  const frames = new TcpFrameWriter();
  const f = createTcpFrameFields();
  const packet = { tsSec: 1_700_000_000, tsNanos: 0, data: new Uint8Array(0) as Uint8Array, originalLength: 0 };
  let clock = 0;
  const send = (): void => {
    clock += 10_000;
    packet.tsSec = 1_700_000_000 + Math.floor(clock / 1e9);
    packet.tsNanos = clock % 1e9;
    packet.data = frames.write(f, 96);
    packet.originalLength = frames.originalLength;
    writer.writePacket(packet);
  };
  f.dst = [...SERVER];
  f.dstPort = 80;
  f.flags = TCP_SYN;
  f.ack = 0;
  for (let i = 0; i < syns; i++) {
    f.src = [0, 0, 0xffff, (0x0a000000 + (i & 0xffffff)) >>> 0];
    f.srcPort = 1024 + (i % 60_000);
    f.seq = Math.imul(i, 2654435761) >>> 0;
    f.ipId = i & 0xffff;
    send();
    if (answered) {
      // The listener answers with a SYN-ACK (the client never completes: half-open).
      const client = f.src;
      const clientPort = f.srcPort;
      const isn = f.seq;
      f.src = [...SERVER];
      f.dst = client;
      f.srcPort = 80;
      f.dstPort = clientPort;
      f.flags = TCP_SYN | TCP_ACK;
      f.seq = 7;
      f.ack = (isn + 1) >>> 0;
      send();
      f.dst = [...SERVER];
      f.dstPort = 80;
      f.flags = TCP_SYN;
      f.ack = 0;
    }
    if (writer.pendingBytes > 1 << 20) yield writer.drain();
  }
  const client: [number, number, number, number] = [0, 0, 0xffff, 0xc6336407];
  const handshake: [boolean, number, number, number][] = [
    [true, TCP_SYN, 1000, 0],
    [false, TCP_SYN | TCP_ACK, 5000, 1001],
    [true, TCP_ACK, 1001, 5001],
  ];
  for (const [fromClient, flags, seq, ack] of handshake) {
    f.src = fromClient ? client : [...SERVER];
    f.dst = fromClient ? [...SERVER] : client;
    f.srcPort = fromClient ? 50_000 : 80;
    f.dstPort = fromClient ? 80 : 50_000;
    f.flags = flags;
    f.seq = seq;
    f.ack = ack;
    send();
  }
  yield writer.drain();
}

/** What must not depend on --jobs: capture facts, every flow, the findings. */
function outputOf(report: AnalysisReport): string {
  return JSON.stringify({ capture: report.capture, flows: [...report.flows], findings: report.findings });
}

function synFloodOf(report: AnalysisReport): AnalysisReport['findings'][number] {
  const found = report.findings.filter((f) => f.id === 'syn-flood');
  assert.equal(found.length, 1, `one syn-flood finding: ${JSON.stringify(report.findings.map((f) => f.id))}`);
  return found[0]!;
}

describe('scale: a SYN flood from spoofed sources', () => {
  it('under a flood, unanswered SYN-only connections are counted per listener, not kept; totals exact; the same output with 1 and 2 jobs', async () => {
    const options: AnalyzeOptions = { file: 'flood', flow: { synFloodOutstanding: 1000 } };
    const one = await analyze(flood(3000), options);
    assert.equal(one.capture.tcpPackets, 3003);
    // Kept: the 1000 SYN-only connections before the flood state, and the completed one (a flood
    // flow until its SYN-ACK, then an ordinary one).
    assert.equal(one.flows.length, 1001);
    for (let i = 0; i < one.flows.length; i++) assert.equal(one.flows.at(i)?.id, i + 1, 'ids without gaps');
    const completed = one.flows.at(1000)!;
    assert.equal(completed.handshake, 'complete');
    assert.equal(completed.client.ip, '198.51.100.7');
    assert.deepEqual(
      one.capture.unansweredSynsFolded?.map((x) => ({ server: x.server, connections: x.connections, synPackets: x.synPackets })),
      [{ server: { ip: '192.0.2.80', port: 80 }, connections: 2000, synPackets: 2000 }],
    );
    const finding = synFloodOf(one);
    assert.equal(finding.count, 3000, 'every half-open connection counted');
    assert.equal(finding.details?.['halfOpen'], 3000);
    assert.equal(finding.details?.['foldedHalfOpen'], 2000);
    assert.ok(finding.flows.length > 0 && finding.flows.every((id) => id <= 1000), 'kept ones are listed');
    const two = await analyze(flood(3000), { ...options, jobs: 2 });
    assert.equal(outputOf(two), outputOf(one));
  });

  it('a listener that answers every SYN is never under a flood: its half-open connections are all kept', async () => {
    const report = await analyze(flood(3000, true), { file: 'flood', flow: { synFloodOutstanding: 1000 } });
    assert.equal(report.flows.length, 3001);
    assert.equal(report.capture.unansweredSynsFolded, undefined);
    assert.equal(report.flows.at(0)?.handshake, 'half_open');
  });

  it('below the flood threshold nothing is folded (a listener with fewer unanswered SYNs keeps every flow)', async () => {
    const report = await analyze(flood(500), { file: 'flood', flow: { synFloodOutstanding: 1000 } });
    assert.equal(report.flows.length, 501);
    assert.equal(report.capture.unansweredSynsFolded, undefined);
    assert.equal(synFloodOf(report).count, 500);
  });

  it(`${SYNS.toLocaleString('en-US')} spoofed SYNs: exact totals, RSS under 300 MB`, async () => {
    const report = await analyze(flood(SYNS), { file: 'flood' });
    const kept = Math.min(SYNS, DEFAULT_FLOW_TRACKER_OPTIONS.synFloodOutstanding);
    assert.equal(report.capture.tcpPackets, SYNS + 3);
    assert.equal(report.flows.length, kept + 1);
    const folded = report.capture.unansweredSynsFolded ?? [];
    assert.equal(folded.reduce((n, x) => n + x.connections, 0), SYNS - kept);
    assert.equal(folded.reduce((n, x) => n + x.synPackets, 0), SYNS - kept);
    assert.equal(synFloodOf(report).count, SYNS);
    const peak = process.resourceUsage().maxRSS * 1024;
    assert.ok(peak < RSS_LIMIT_BYTES, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
  });
});
