import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runDetectors, inferVantage, assessCaptureQuality } from '../../src/diagnose/index.ts';
import type { Finding } from '../../src/diagnose/index.ts';
import type { FlowRecord } from '../../src/tcp/types.ts';
import { buildFlow, cleanFlow, inputOf, T0 } from './flow-builder.ts';
import type { Seg } from './flow-builder.ts';

const only = (flows: FlowRecord[], id: string, capture = {}): Finding[] =>
  runDetectors(inputOf(flows, capture)).findings.filter((f) => f.id === id);

const HS: Seg[] = [
  [0, 'client', 'S', 0, -1, 0],
  [0.0001, 'server', 'SA', 0, 1, 0],
  [0.0002, 'client', 'A', 1, 1, 0],
];

/** Client closes, server ACKs the FIN and never closes; `age` s in CLOSE_WAIT at capture end. */
const leak = (id: number, age: number): FlowRecord => {
  const f = id * 100;
  return buildFlow({
    id,
    startSeconds: T0 + id,
    segments: [...HS, [0.001, 'client', 'FA', 1, 1, 0], [0.002, 'server', 'A', 1, 2, 0]],
    finalState: { client: 'FIN_WAIT_2', server: 'CLOSE_WAIT' },
    secondsInFinalState: { client: age, server: age },
    transitions: [
      { frame: f + 3, side: 'client', from: 'ESTABLISHED', to: 'FIN_WAIT_1', inferred: false },
      { frame: f + 4, side: 'server', from: 'ESTABLISHED', to: 'CLOSE_WAIT', inferred: false },
    ],
    overrides: { closeReason: 'end_of_capture' },
  });
};

describe('close-wait-leak', () => {
  it('aggregates per service with median and oldest age and the peer side', () => {
    const [f] = only([leak(1, 30), leak(2, 10), leak(3, 20), cleanFlow(4)], 'close-wait-leak');
    assert.ok(f);
    assert.equal(f.count, 3);
    assert.deepEqual(f.flows, [1, 2, 3]);
    assert.equal(f.details?.['medianAgeSeconds'], 20);
    assert.equal(f.details?.['oldestAgeSeconds'], 30);
    assert.match(f.summary, /3 connections of 10\.0\.0\.2:8080 stayed in CLOSE_WAIT on the server \(median 20 s, oldest 30 s\).*3 peers in FIN_WAIT_2/);
    assert.ok(f.checks.some((c) => c.includes('lsof -p PID | grep CLOSE_WAIT')));
    assert.equal(f.wiresharkFilter, 'frame.number in {103 104 203 204 303 304}');
  });

  it('a prompt close is not a leak', () => {
    assert.deepEqual(only([cleanFlow(1)], 'close-wait-leak'), []);
  });

  it('the capture dropping packets adds a caveat and downgrades', () => {
    const [f] = only([leak(1, 30)], 'close-wait-leak', { drops: 5 });
    assert.equal(f?.severity, 'info');
    assert.match(f!.caveat!, /dropped 5 packets/);
  });
});

describe('fin-retransmit, half-close, keepalive-timeout, data-unacked, reset', () => {
  it('fin-retransmit names the sender and counts connections', () => {
    const flow = buildFlow({ id: 1, segments: [...HS, [0.01, 'client', 'FA', 1, 1, 0], [0.3, 'client', 'FA', 1, 1, 0, 'fin'], [0.31, 'server', 'A', 1, 2, 0]] });
    const [f] = only([flow], 'fin-retransmit');
    assert.equal(f?.count, 1);
    assert.match(f!.summary, /resent a FIN once \(sent by the client\); the peer kept answering\.$/);
    // The peer silent after the FIN: said so, and for several connections how many.
    const silent = buildFlow({ id: 2, segments: [...HS, [0.01, 'client', 'FA', 1, 1, 0], [0.3, 'client', 'FA', 1, 1, 0, 'fin'], [0.9, 'client', 'FA', 1, 1, 0, 'fin']] });
    assert.match(only([silent], 'fin-retransmit')[0]!.summary, /resent a FIN twice \(sent by the client\); the peer never answered again\.$/);
    const silent2 = buildFlow({ id: 3, client: { ip: '10.0.0.9', port: 40009 }, segments: [...HS, [0.01, 'client', 'FA', 1, 1, 0], [0.3, 'client', 'FA', 1, 1, 0, 'fin']] });
    assert.match(only([silent, silent2], 'fin-retransmit')[0]!.summary, /^2 connections of .+ resent a FIN 3 times \(sent by the client\); on both the peer never answered again\.$/);
  });

  it('half-close is info and needs data after the FIN', () => {
    const flow = buildFlow({ id: 1, segments: [...HS, [0.01, 'client', 'FA', 1, 1, 0], [0.02, 'server', 'PA', 1, 2, 1000], [0.03, 'server', 'FA', 1001, 2, 0]] });
    const [f] = only([flow], 'half-close');
    assert.equal(f?.severity, 'info');
    assert.match(f!.summary, /1000 more bytes/);
    assert.deepEqual(only([cleanFlow(2)], 'half-close'), []);
  });

  it('keepalive-timeout: unanswered probes then RST; no separate reset finding', () => {
    const flow = buildFlow({
      id: 1,
      segments: [
        ...HS,
        [1, 'client', 'A', 0, 1, 0, 'keepalive'],
        [2, 'client', 'A', 0, 1, 0, 'keepalive'],
        [3, 'client', 'A', 0, 1, 0, 'keepalive'],
        [4, 'client', 'R', 1, -1, 0],
      ],
    });
    const r = runDetectors(inputOf([flow])).findings;
    assert.deepEqual(r.map((f) => f.id), ['keepalive-timeout']);
    assert.match(r[0]!.summary, /3 unanswered keepalive probes/);
  });

  it('keepalive-timeout with minUnansweredProbes 0: counted as 1, no detector error (a RST without probes is not a keepalive abort)', () => {
    const probed = buildFlow({ id: 1, segments: [...HS, [1, 'client', 'A', 0, 1, 0, 'keepalive'], [2, 'client', 'R', 1, -1, 0]] });
    const plain = buildFlow({ id: 2, segments: [...HS, [2, 'client', 'R', 1, -1, 0]] });
    const result = runDetectors(inputOf([probed, plain]), { thresholds: { 'keepalive-timeout': { minUnansweredProbes: 0 } } });
    assert.deepEqual(result.detectors.filter((d) => d.status === 'error'), []);
    const found = result.findings.filter((f) => f.id === 'keepalive-timeout');
    assert.deepEqual(found.map((f) => f.flows), [[1]]);
  });

  it('data-unacked when the connection died with bytes outstanding', () => {
    const flow = buildFlow({
      id: 1,
      segments: [...HS, [0.1, 'client', 'PA', 1, 1, 500], [0.5, 'client', 'PA', 1, 1, 500, 'data'], [9, 'client', 'R', 501, -1, 0]],
      overrides: { unackedBytesAtEnd: { client: 500, server: 0 } },
    });
    const [f] = only([flow], 'data-unacked');
    assert.match(f!.summary, /500 bytes sent by the client never acknowledged/);
  });

  it('reset causes: abortive close, idle gap with the gap, data after close, handshake', () => {
    const abortive = buildFlow({ id: 1, segments: [...HS, [0.1, 'client', 'PA', 1, 1, 10], [0.2, 'server', 'PA', 1, 11, 10], [0.3, 'client', 'A', 11, 11, 0], [0.31, 'client', 'RA', 11, 11, 0]] });
    const idle = buildFlow({ id: 2, server: { ip: '10.0.0.3', port: 80 }, segments: [...HS, [0.1, 'client', 'PA', 1, 1, 10], [0.2, 'server', 'A', 1, 11, 0], [300.2, 'client', 'PA', 11, 1, 10], [300.21, 'server', 'R', 1, -1, 0]] });
    const afterClose = buildFlow({ id: 3, server: { ip: '10.0.0.4', port: 80 }, segments: [...HS, [0.1, 'server', 'FA', 1, 1, 0], [0.2, 'client', 'PA', 1, 2, 10], [0.21, 'server', 'R', 2, -1, 0]] });
    const r = only([abortive, idle, afterClose], 'reset');
    const causes = Object.fromEntries(r.map((f) => [f.endpoint, f.details?.['cause']]));
    assert.deepEqual(causes, { '10.0.0.2:8080': 'abortive-close', '10.0.0.3:80': 'idle-timeout', '10.0.0.4:80': 'data-after-close' });
    const idleFinding = r.find((f) => f.endpoint === '10.0.0.3:80')!;
    assert.match(idleFinding.summary, /was reset by the server after an idle gap of 5 min\.$/);
    // Two such connections: the longest gap.
    const idle2 = buildFlow({ id: 4, server: { ip: '10.0.0.3', port: 80 }, client: { ip: '10.0.0.9', port: 40001 }, segments: [...HS, [0.1, 'client', 'PA', 1, 1, 10], [0.2, 'server', 'A', 1, 11, 0], [100.2, 'client', 'PA', 11, 1, 10], [100.21, 'server', 'R', 1, -1, 0]] });
    const both = only([idle, idle2], 'reset').find((f) => f.endpoint === '10.0.0.3:80')!;
    assert.match(both.summary, /^2 connections of 10\.0\.0\.3:80 were reset by the server after idle gaps of up to 5 min\.$/);
    assert.equal(idleFinding.wiresharkFilter, 'frame.number in {206}');
  });
});

describe('time-wait-churn, tuple-reuse, syn-flood', () => {
  it('time-wait-churn: 150 client-closed connections, rate and TIME_WAIT estimate', () => {
    const flows = Array.from({ length: 150 }, (_, i) => cleanFlow(i + 1, T0 + i * 0.1, { firstFrame: (i + 1) * 10 }));
    const [f] = only(flows, 'time-wait-churn');
    assert.ok(f);
    assert.equal(f.count, 150);
    assert.equal(f.details?.['closer'], 'client');
    assert.equal(f.details?.['peakTimeWait'], 150);
    assert.equal(f.details?.['timeWaitSeconds'], 60);
    assert.equal(f.details?.['headroomPorts'], 28232 - 600);
    assert.equal(f.framesTotal, 150);
    assert.match(f.wiresharkFilter, /^tcp\.flags\.fin==1 && ip\.src==10\.0\.0\.1/);
    assert.deepEqual(only(flows.slice(0, 50), 'time-wait-churn'), []);
  });

  it('tuple-reuse reports the gap and the answer', () => {
    const reused = buildFlow({
      id: 2,
      client: { ip: '10.0.0.1', port: 40001 },
      segments: [[0, 'client', 'S', 0, -1, 0], [0.0001, 'server', 'A', 5, 1, 0]],
      overrides: { previous: { flowId: 1, secondsSinceLastPacket: 2, finalState: { client: 'TIME_WAIT', server: 'CLOSED' }, sameClient: true } },
    });
    const [f] = only([cleanFlow(1), reused], 'tuple-reuse');
    assert.equal(f?.severity, 'warning');
    assert.match(f!.summary, /2 s to 2 s after the previous close; answered: 1 challenge-ack/);
  });

  it('syn-flood: many half-open from many ports, SYN cookies hinted', () => {
    const flows = Array.from({ length: 60 }, (_, i) =>
      buildFlow({ id: i + 1, client: { ip: '10.9.0.1', port: 20000 + i }, startSeconds: T0 + i * 0.01, segments: [[0, 'client', 'S', 0, -1, 0], [0.0001, 'server', 'SA', 0, 1, 0]] }),
    );
    flows.push(cleanFlow(61, T0 + 5));
    const [f] = only(flows, 'syn-flood');
    assert.equal(f?.count, 60);
    assert.equal(f?.details?.['synCookiesLikely'], true);
    assert.deepEqual(only(flows.slice(0, 10), 'syn-flood'), []);
  });
});

describe('capture quality and vantage', () => {
  it('lists mid-connection, one-way, drops, snaplen, duplicates, backwards timestamps', () => {
    const oneWay = buildFlow({ id: 1, segments: [[0, 'client', 'PA', 1, 1, 10], [1, 'client', 'PA', 11, 1, 10]] });
    const q = assessCaptureQuality(
      inputOf([oneWay], { drops: 3, truncatedPackets: 2, timestampsBackwards: 1, anomalies: { duplicate_packet: 4 } }),
    );
    assert.deepEqual(
      q.items.map((i) => [i.id, i.count]),
      [
        ['started-mid-connection', 1],
        ['one-direction-missing', 1],
        ['capture-drops', 3],
        ['snaplen-truncated', 2],
        ['duplicate-frames', 4],
        ['timestamps-backwards', 1],
      ],
    );
    // Verbs agree with a count of 1 as with more.
    const backwards = (n: number): string | undefined =>
      assessCaptureQuality(inputOf([oneWay], { timestampsBackwards: n })).items.find((i) => i.id === 'timestamps-backwards')?.message;
    assert.match(backwards(1) ?? '', /^1 packet has a timestamp earlier than the packet before/);
    assert.match(backwards(2) ?? '', /^2 packets have a timestamp earlier than the packet before/);
  });

  it('duplicated frames put a caveat on retransmission findings', () => {
    const flow = buildFlow({ id: 1, segments: [[0, 'client', 'S', 0, -1, 0], [1, 'client', 'S', 0, -1, 0, 'syn'], [1.0001, 'server', 'SA', 0, 1, 0], [1.0002, 'client', 'A', 1, 1, 0]] });
    const [f] = only([flow], 'syn-retransmit', { anomalies: { duplicate_packet: 1 } });
    assert.equal(f?.severity, 'info');
    assert.match(f!.caveat!, /captured twice/);
    // Retry timing depends on timestamps: a step back is a caveat, its verb agreeing with 1.
    const [g] = only([flow], 'syn-retransmit', { timestampsBackwards: 1 });
    assert.match(g?.caveat ?? '', /; 1 timestamp goes backwards\.$|: 1 timestamp goes backwards\.$/);
  });

  it('vantage from TTLs and from the handshake RTT split', () => {
    const base = cleanFlow(1);
    assert.equal(inferVantage({ ...base, ttl: { client: 64, server: 57 } }).vantage, 'client');
    assert.equal(inferVantage({ ...base, ttl: { client: 118, server: 64 } }).vantage, 'server');
    assert.equal(inferVantage({ ...base, rttMs: { total: 40.2, clientSide: 40, serverSide: 0.2 } }).vantage, 'server');
    assert.equal(inferVantage({ ...base, rttMs: { total: 40.2, clientSide: 0.2, serverSide: 40 } }).vantage, 'client');
    assert.equal(inferVantage(base).vantage, 'unknown');
  });
});
