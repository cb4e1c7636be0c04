/**
 * The view model's one pass over the flows (src/report/view-model.ts): what it takes from the
 * capture's span before the scan, the shown services' and hosts' numbers it works out afterwards
 * from per-flow columns, and the RTT statistics by selection, each checked against a plain
 * computation from the records.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { analyze } from '../../src/analyze.ts';
import { PcapWriter } from '../../src/capture/writer.ts';
import { TCP_ACK, TCP_FIN, TCP_SYN } from '../../src/decode/types.ts';
import { buildReportView, rttStatsOf, scanFlowsForView } from '../../src/report/view-model.ts';
import type { ReportView } from '../../src/report/view-model.ts';
import type { AnalysisReport } from '../../src/report/model.ts';
import { buildTcpFrame } from '../../src/synth/index.ts';
import { scenarioReport } from './reports.ts';
import type { FlowRecord } from '../../src/tcp/types.ts';

interface Connection {
  readonly client: string;
  readonly server: string;
  readonly port: number;
}

/**
 * A pcap of complete connections (handshake, a request, FIN from each side) one after the other,
 * 10 ms apart, each client port distinct.
 */
function captureOf(connections: readonly Connection[]): Uint8Array {
  const writer = new PcapWriter({ snapLength: 262144 });
  let t = 1_700_000_000 * 1e6;
  const put = (src: string, dst: string, srcPort: number, dstPort: number, seq: number, ack: number, flags: number, payloadLength = 0): void => {
    const data = buildTcpFrame({ src, dst, srcPort, dstPort, seq, ack, flags, payloadLength });
    writer.writePacket({ tsSec: Math.floor(t / 1e6), tsNanos: (t % 1e6) * 1000, data, originalLength: data.length });
    t += 1000;
  };
  connections.forEach((c, i) => {
    const cp = 40000 + i;
    const a = 1000;
    const b = 5000;
    put(c.client, c.server, cp, c.port, a, 0, TCP_SYN);
    put(c.server, c.client, c.port, cp, b, a + 1, TCP_SYN | TCP_ACK);
    put(c.client, c.server, cp, c.port, a + 1, b + 1, TCP_ACK);
    put(c.client, c.server, cp, c.port, a + 1, b + 1, TCP_ACK, 10);
    put(c.client, c.server, cp, c.port, a + 11, b + 1, TCP_FIN | TCP_ACK);
    put(c.server, c.client, c.port, cp, b + 1, a + 12, TCP_FIN | TCP_ACK);
    put(c.client, c.server, cp, c.port, a + 12, b + 2, TCP_ACK);
    t += 10_000 - 7000;
  });
  return writer.drain();
}

/**
 * Hosts the single pass cannot count as it goes: 70 servers seen once each (more than it tracks),
 * then a server seen only after them (10.2.0.1, the busiest), and a host that is a server from
 * its first connection and a client too (10.0.0.1), among 1000 connections between other hosts.
 */
function hostileHosts(): Connection[] {
  const out: Connection[] = [{ client: '10.8.9.1', server: '10.0.0.1', port: 22 }];
  // Many flows of other hosts (so the hosts below are looked at again one flow at a time).
  for (let i = 0; i < 1000; i++) out.push({ client: `10.7.${i >> 8}.${i & 255}`, server: `10.6.${i >> 8}.${i & 255}`, port: 8080 });
  for (let i = 0; i < 70; i++) out.push({ client: `10.8.0.${i + 1}`, server: `10.1.0.${i + 1}`, port: 80 });
  for (let i = 0; i < 30; i++) out.push({ client: `10.8.1.${i + 1}`, server: '10.2.0.1', port: 443 });
  for (let i = 0; i < 19; i++) out.push({ client: `10.8.2.${i + 1}`, server: '10.0.0.1', port: 22 });
  for (let i = 0; i < 5; i++) out.push({ client: '10.0.0.1', server: '10.2.0.1', port: 443 });
  return out;
}

async function reportOf(bytes: Uint8Array): Promise<AnalysisReport> {
  return analyze(Readable.from([bytes]), { file: 'hosts.pcap' });
}

/** The parts of the view made from the pass over the flows (not the capture facts). */
function flowParts(v: ReportView): unknown {
  return { bins: v.bins, series: v.series, population: v.population, hosts: v.hosts, hostsOmitted: v.hostsOmitted, rtt: v.rtt, services: v.services, swimlane: v.swimlane };
}

describe('report view model', () => {
  it('charts the busiest hosts with their exact connection counts, whatever role and order', async () => {
    const report = await reportOf(captureOf(hostileHosts()));
    const view = buildReportView(report);
    const records = [...report.flows] as FlowRecord[];
    const exact = (host: string): number =>
      records.filter((f) => f.client.ip === host).length + records.filter((f) => f.server.ip === host).length;
    // The two busy hosts lead; the other two places go to hosts of one connection each.
    assert.deepEqual(view.hosts.slice(0, 2).map((h) => h.host), ['10.2.0.1', '10.0.0.1']);
    assert.equal(view.hosts.length, 4);
    for (const h of view.hosts) assert.equal(h.connections, exact(h.host), h.host);
    assert.equal(view.hosts[0]!.connections, 35);
    assert.equal(view.hosts[1]!.connections, 25);
  });

  it('gives the same host charts when it tracks no host and counts every charted one again', async () => {
    const report = await reportOf(captureOf(hostileHosts()));
    for (const options of [{}, { maxHosts: 12 }]) {
      const tracked = buildReportView(report, options);
      assert.deepEqual(buildReportView(report, { ...options, trackedHosts: 0 }), tracked);
      assert.deepEqual(buildReportView(report, { ...options, trackedHosts: 3 }), tracked);
    }
  });

  it('gives the same view from the flow store and from the records as an array', async () => {
    const report = await reportOf(captureOf(hostileHosts()));
    const fromArray: AnalysisReport = { ...report, flows: [...report.flows] };
    assert.deepEqual(flowParts(buildReportView(fromArray)), flowParts(buildReportView(report)));
    const small = { maxHosts: 2, maxServices: 2, maxSwimlaneRows: 500 };
    assert.deepEqual(flowParts(buildReportView(fromArray, small)), flowParts(buildReportView(report, small)));
  });

  it('bins again when the capture span it guessed from was not the flows\' (same view)', async () => {
    const report = await reportOf(captureOf(hostileHosts()));
    // The last packet time is where the guessed span ends; a wrong one forces the second pass.
    const lastTs = report.capture.lastTs!;
    const misled: AnalysisReport = { ...report, capture: { ...report.capture, lastTs: lastTs.replace(/\d(?=Z$)/, (d) => String((Number(d) + 5) % 10)) } };
    assert.notEqual(misled.capture.lastTs, lastTs);
    assert.deepEqual(flowParts(buildReportView(misled)), flowParts(buildReportView(report)));
    const unknown: AnalysisReport = { ...report, capture: { ...report.capture, lastTs: null } };
    assert.deepEqual(flowParts(buildReportView(unknown)), flowParts(buildReportView(report)));
  });

  it('RTT statistics by selection equal those of a sorted copy', () => {
    // Handshake RTTs are whole microseconds in ms (roundMs); a clock stepping back makes them negative.
    const value = fc.oneof(fc.integer({ min: -5000, max: 5_000_000 }).map((us) => us / 1000), fc.constantFrom(0, -0, 1, 2.5, 1000));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), (values) => {
        const sorted = Float64Array.from(values).sort();
        const rank = (p: number): number => Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
        const stats = rttStatsOf(values)!;
        assert.ok(Object.is(stats.medianMs, sorted[rank(0.5)]), `median ${stats.medianMs} vs ${sorted[rank(0.5)]}`);
        assert.ok(Object.is(stats.p95Ms, sorted[rank(0.95)]), `p95 ${stats.p95Ms} vs ${sorted[rank(0.95)]}`);
        assert.ok(Object.is(stats.maxMs, sorted[sorted.length - 1]), `max ${stats.maxMs}`);
        assert.equal(stats.samples, values.length);
        assert.equal(stats.histogram.reduce((s, b) => s + b.count, 0), values.length);
      }),
      { numRuns: 2000 },
    );
    assert.equal(rttStatsOf([]), null);
  });
});

describe('the view pass made before the findings (see diagnoseForReport)', () => {
  it('a list whose ids are not its positions: the named flows are found by a scan, the view is the same', async () => {
    const base = await scenarioReport('churn');
    // The records newest first: flow id N at position 0, so `id - 1` is the wrong position for all
    // but the middle one.
    const flows = [...base.flows].reverse();
    const report: AnalysisReport = { ...base, flows };
    assert.ok(report.findings.some((f) => f.flows.length > 0), 'findings name flows');
    const view = { maxSwimlaneRows: 1 };
    const pass = scanFlowsForView(report, view);
    assert.equal(pass.namedNoted, false);
    assert.deepEqual(buildReportView(report, view, pass), buildReportView(report, view));
  });

  it('refuses a list small enough for swimlane rows (those are flagged by finding)', async () => {
    const report = await scenarioReport('close-wait-leak');
    assert.throws(() => scanFlowsForView(report), /needs the findings/);
  });
});

describe('the last time bin', () => {
  it('a population steady to the end of the capture is drawn steady in the last bin, which reaches past the end', async () => {
    // 5 connections open within the first millisecond, then each sends a byte every 100 ms (and
    // is acknowledged) until 3.3 s, the capture ending at 3.37 s: ESTABLISHED on both sides all
    // along, never closed.
    const writer = new PcapWriter({ snapLength: 262144 });
    const put = (us: number, src: string, dst: string, srcPort: number, dstPort: number, seq: number, ack: number, flags: number, payloadLength = 0): void => {
      const data = buildTcpFrame({ src, dst, srcPort, dstPort, seq, ack, flags, payloadLength });
      writer.writePacket({ tsSec: 1_700_000_000 + Math.floor(us / 1e6), tsNanos: (us % 1e6) * 1000, data, originalLength: data.length });
    };
    const sent = [0, 0, 0, 0, 0];
    for (let i = 0; i < 5; i++) {
      put(i * 100, '10.0.0.1', '10.0.0.2', 40000 + i, 80, 1000, 0, TCP_SYN);
      put(i * 100 + 20, '10.0.0.2', '10.0.0.1', 80, 40000 + i, 5000, 1001, TCP_SYN | TCP_ACK);
      put(i * 100 + 40, '10.0.0.1', '10.0.0.2', 40000 + i, 80, 1001, 5001, TCP_ACK);
    }
    for (let us = 100_000; us <= 3_300_000; us += 100_000) {
      for (let i = 0; i < 5; i++) {
        put(us + i * 10, '10.0.0.1', '10.0.0.2', 40000 + i, 80, 1001 + sent[i]!, 5001, TCP_ACK, 1);
        sent[i]! += 1;
        put(us + i * 10 + 5, '10.0.0.2', '10.0.0.1', 80, 40000 + i, 5001, 1001 + sent[i]!, TCP_ACK);
      }
    }
    // The capture ends at 3.37 s: 0.02 s into a bin of 0.05 s.
    put(3_370_000, '10.0.0.2', '10.0.0.1', 80, 40000, 5001, 1001 + sent[0]!, TCP_ACK);
    const report = await reportOf(writer.drain());
    const view = buildReportView(report);
    const { bins } = view;
    assert.ok(bins.count * bins.widthSeconds > bins.durationSeconds + bins.widthSeconds / 10, `the last bin reaches past the end: ${JSON.stringify(bins)}`);
    for (const side of ['client', 'server'] as const) {
      const established = view.population[side].find((s) => s.state === 'ESTABLISHED')!.values;
      // Every bin after the first (the handshakes) averages 5 connections, the last one too.
      for (let i = 1; i < established.length; i++) assert.equal(established[i], 5, `${side} bin ${i} of ${established.length}`);
    }
  });
});
