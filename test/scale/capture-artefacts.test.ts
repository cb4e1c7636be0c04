/**
 * Capture artefacts our writer generates: the same traffic on two interfaces of one pcapng, the
 * same packets duplicated in a classic pcap, and timestamps going backwards. Copies are dropped
 * before flow tracking (counted as `duplicate_frame`), are never diagnosed as retransmissions,
 * and the quality section names each gap.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/analyze.ts';
import { PcapngWriter, PcapWriter } from '../../src/capture/index.ts';
import { buildTcpFrame } from '../../src/synth/index.ts';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../src/decode/types.ts';
import type { AnalysisReport } from '../../src/report/model.ts';

const T0 = 1_700_000_000;

interface Packet {
  readonly tsSec: number;
  readonly tsNanos: number;
  readonly data: Uint8Array;
}

/**
 * One clean connection, 10.0.0.1:40000 → 10.0.0.2:80: handshake, `exchanges` request/ACK pairs,
 * FIN, FIN, ACK; 1 ms apart, each packet with its own IPv4 id. With `stepBackAt`, the clock steps
 * back 2 s before that packet (an NTP step during the capture).
 */
function connection(exchanges: number, stepBackAt = -1): Packet[] {
  const c = { src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80 };
  const s = { src: '10.0.0.2', dst: '10.0.0.1', srcPort: 80, dstPort: 40000 };
  let cSeq = 1000;
  let sSeq = 9000;
  const specs: Parameters<typeof buildTcpFrame>[0][] = [
    { ...c, flags: TCP_SYN, seq: cSeq, options: { mss: 1460 } },
    { ...s, flags: TCP_SYN | TCP_ACK, seq: sSeq, ack: cSeq + 1, options: { mss: 1460 } },
  ];
  cSeq++;
  sSeq++;
  specs.push({ ...c, flags: TCP_ACK, seq: cSeq, ack: sSeq });
  for (let i = 0; i < exchanges; i++) {
    specs.push({ ...c, flags: TCP_PSH | TCP_ACK, seq: cSeq, ack: sSeq, payloadLength: 200 });
    cSeq += 200;
    specs.push({ ...s, flags: TCP_ACK, seq: sSeq, ack: cSeq });
  }
  specs.push({ ...c, flags: TCP_FIN | TCP_ACK, seq: cSeq, ack: sSeq });
  specs.push({ ...s, flags: TCP_FIN | TCP_ACK, seq: sSeq, ack: cSeq + 1 });
  specs.push({ ...c, flags: TCP_ACK, seq: cSeq + 1, ack: sSeq + 1 });
  return specs.map((spec, i) => {
    const ms = i + 1 + (stepBackAt >= 0 && i >= stepBackAt ? -2000 : 0);
    return { tsSec: T0 + Math.floor(ms / 1000), tsNanos: (((ms % 1000) + 1000) % 1000) * 1_000_000, data: buildTcpFrame({ ...spec, ipId: i + 1 }) };
  });
}

function later(p: Packet, nanos: number): Packet {
  const total = p.tsNanos + nanos;
  return { ...p, tsSec: p.tsSec + Math.floor(total / 1e9), tsNanos: total % 1e9 };
}

async function analyzeBytes(bytes: Uint8Array): Promise<AnalysisReport> {
  return analyze((async function* () { yield bytes; })(), { file: 'generated' });
}

function retransmissions(report: AnalysisReport): number {
  let n = 0;
  for (const f of report.flows) {
    const k = f.counts;
    n += k.synRetransmissions + k.synAckRetransmissions + k.finRetransmissions + k.dataRetransmissionsClient + k.dataRetransmissionsServer + k.duplicateAcks;
  }
  return n;
}

function qualityItem(report: AnalysisReport, id: string): { count: number; message: string } | undefined {
  return report.quality?.items.find((q) => q.id === id);
}

describe('scale: capture artefacts', () => {
  it('the same traffic on two interfaces of one pcapng, clock stepping back once: copies dropped, no retransmission, quality names both gaps', async () => {
    const packets = connection(5, 7);
    const w = new PcapngWriter();
    const eth0 = w.addInterface({ name: 'eth0', tsResolution: { base: 10, exponent: 9 } });
    const eth1 = w.addInterface({ name: 'eth1', tsResolution: { base: 10, exponent: 9 } });
    for (const p of packets) {
      w.writeEnhancedPacket(eth0, p);
      w.writeEnhancedPacket(eth1, later(p, 30_000)); // the copy, 30 µs later on the other interface
    }
    const report = await analyzeBytes(w.toBytes());
    const n = packets.length;
    assert.equal(report.capture.packets, 2 * n);
    assert.deepEqual(report.capture.interfaces.map((i) => [i.name, i.packets]), [['eth0', n], ['eth1', n]]);
    assert.equal(report.capture.anomalies['duplicate_frame'], n);
    assert.equal(report.capture.timestampsBackwards, 1);
    assert.equal(report.flows.length, 1);
    const flow = report.flows.at(0)!;
    assert.equal(flow.packets.client + flow.packets.server, n, 'each packet tracked once');
    assert.equal(flow.handshake, 'complete');
    assert.equal(retransmissions(report), 0);
    assert.equal(report.findings.filter((f) => /retransmi/.test(f.id)).length, 0);
    assert.equal(qualityItem(report, 'duplicate-frames')?.count, n);
    assert.match(qualityItem(report, 'duplicate-frames')?.message ?? '', /captured twice/);
    assert.equal(qualityItem(report, 'timestamps-backwards')?.count, 1);
  });

  it('every packet duplicated in a classic pcap: the copies are dropped, a real SYN retransmission 1 s later is still one', async () => {
    const packets = connection(3);
    const syn = packets[0]!;
    const w = new PcapWriter({ nanosecond: true });
    w.writePacket(syn);
    w.writePacket(syn); // an exact copy (mergecap of overlapping captures)
    w.writePacket(later(syn, 1e9)); // the same SYN again 1 s later: a genuine retransmission
    w.writePacket(later(syn, 1e9));
    for (const p of packets.slice(1)) {
      const moved = later(p, 1e9);
      w.writePacket(moved);
      w.writePacket(moved);
    }
    const report = await analyzeBytes(w.toBytes());
    const n = packets.length + 1;
    assert.equal(report.capture.packets, 2 * n);
    assert.equal(report.capture.anomalies['duplicate_frame'], n);
    assert.equal(report.capture.timestampsBackwards, 0);
    assert.equal(report.flows.length, 1);
    const flow = report.flows.at(0)!;
    assert.equal(flow.packets.client + flow.packets.server, n);
    assert.equal(flow.counts.synRetransmissions, 1, 'the SYN sent 1 s later is a retransmission, its copy is not');
    assert.equal(retransmissions(report), 1);
    assert.equal(qualityItem(report, 'duplicate-frames')?.count, n);
    assert.equal(qualityItem(report, 'timestamps-backwards'), undefined);
  });
});
