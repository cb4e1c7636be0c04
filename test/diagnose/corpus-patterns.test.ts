/**
 * False positives found on the shared corpus, each as a minimal flow pattern: the detector must
 * stay silent (or classify differently) on these, and still fire on the real thing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runDetectors } from '../../src/diagnose/index.ts';
import type { Finding } from '../../src/diagnose/index.ts';
import { assessCaptureQuality } from '../../src/diagnose/quality.ts';
import type { FlowRecord } from '../../src/tcp/types.ts';
import { buildFlow, cleanFlow, inputOf, T0 } from './flow-builder.ts';
import type { Seg } from './flow-builder.ts';

const findings = (flows: FlowRecord[], capture = {}): Finding[] => runDetectors(inputOf(flows, capture)).findings;
const only = (flows: FlowRecord[], id: string, capture = {}): Finding[] => findings(flows, capture).filter((f) => f.id === id);
const ids = (flows: FlowRecord[]): string[] => findings(flows).map((f) => f.id);

describe('RST answering the client FIN (zeek/tcp/fin_retransmission.pcap)', () => {
  // SYN, bare FIN before the SYN-ACK, SYN-ACK, FIN+ACK again, server RST (seq ISN+1, no ACK).
  const flow = buildFlow({
    id: 1,
    segments: [
      [0, 'client', 'S', 0, -1, 0],
      [0.29, 'client', 'F', 0, -1, 0],
      [0.305, 'server', 'SA', 0, 1, 0],
      [0.307, 'client', 'FA', 0, 1, 0, 'fin'],
      [0.31, 'server', 'R', 1, -1, 0],
    ],
    overrides: { handshake: 'reset_after_ack', rttMs: { total: 307, clientSide: 2, serverSide: 305 } },
    finalState: { client: 'CLOSED', server: 'CLOSED' },
    transitions: [
      { frame: 102, side: 'server', from: 'SYN_RECEIVED', to: 'CLOSE_WAIT', inferred: false },
      { frame: 104, side: 'server', from: 'CLOSE_WAIT', to: 'CLOSED', inferred: false },
    ],
  });

  it('is not an accept-queue overflow, nor a CLOSE_WAIT leak (the server never ACKed the FIN)', () => {
    const got = ids([flow]);
    assert.ok(!got.includes('accept-overflow-rst'), got.join());
    assert.ok(!got.includes('close-wait-leak'), got.join());
    const [r] = only([flow], 'reset');
    assert.equal(r?.details?.['cause'], 'abortive-close');
  });

  it('the overflow signature without the FIN still matches', () => {
    const overflow = buildFlow({
      id: 2,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.0001, 'server', 'SA', 0, 1, 0],
        [0.0002, 'client', 'A', 1, 1, 0],
        [0.0003, 'server', 'R', 1, -1, 0],
      ],
      overrides: { handshake: 'reset_after_ack' },
    });
    assert.equal(only([overflow], 'accept-overflow-rst').length, 1);
  });
});

describe('close-wait-leak ended by a RST (zeek/http/m57-long-49600-80.pcap, 206_example_b.pcap)', () => {
  // Server sends FIN, client ACKs it, then the client closes with RST+ACK `resetAfter` s later.
  const clientAborts = (id: number, resetAfter: number, by: 'client' | 'server' = 'client'): FlowRecord =>
    buildFlow({
      id,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.001, 'server', 'SA', 0, 1, 0],
        [0.002, 'client', 'A', 1, 1, 0],
        [0.003, 'client', 'PA', 1, 1, 100],
        [0.1, 'server', 'FPA', 1, 101, 500],
        [0.1001, 'client', 'A', 101, 502, 0],
        [0.1 + resetAfter, by, 'RA', by === 'client' ? 101 : 502, by === 'client' ? 502 : 101, 0],
      ],
      finalState: { client: 'CLOSED', server: 'CLOSED' },
      transitions: [
        { frame: id * 100 + 4, side: 'server', from: 'ESTABLISHED', to: 'FIN_WAIT_1', inferred: false },
        { frame: id * 100 + 5, side: 'client', from: 'ESTABLISHED', to: 'CLOSE_WAIT', inferred: false },
        { frame: id * 100 + 6, side: 'client', from: 'CLOSE_WAIT', to: 'CLOSED', inferred: false },
        { frame: id * 100 + 6, side: 'server', from: 'FIN_WAIT_2', to: 'CLOSED', inferred: false },
      ],
    });

  it("the CLOSE_WAIT side's own RST after 1 s or 26 s is an abortive close, not a leak", () => {
    assert.deepEqual(only([clientAborts(1, 1), clientAborts(2, 26)], 'close-wait-leak'), []);
    const resets = only([clientAborts(1, 1)], 'reset');
    assert.equal(resets.length, 1);
  });

  it('its own RST after more than minAgeBeforeOwnResetSeconds (60 s) is a leak, and says so', () => {
    const [f] = only([clientAborts(1, 120, 'client')], 'close-wait-leak');
    assert.ok(f);
    assert.match(f.summary, /ended late by its own RST/);
    assert.equal((f.details?.['ended'] as Record<string, number>)['own-reset'], 1);
  });

  it("the peer's RST after the threshold: a leak (the peer gave up waiting)", () => {
    const [f] = only([clientAborts(1, 5, 'server')], 'close-wait-leak');
    assert.ok(f);
    assert.match(f.summary, /ended by the peer's RST/);
  });
});

describe('accept-overflow-drop needs a valid final ACK and client data never ACKed', () => {
  it('an ACK that does not acknowledge the SYN-ACK (crafted, arkime/tcp_handshake_synthetic.pcap) completes nothing', () => {
    const flow = buildFlow({
      id: 1,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.001, 'server', 'SA', 0, 1, 0],
        [0.002, 'client', 'A', 1, 993999, 0],
        [0.05, 'server', 'SA', 0, 1, 0, 'synack'],
        [0.15, 'server', 'SA', 0, 1, 0, 'synack'],
      ],
    });
    assert.deepEqual(only([flow], 'accept-overflow-drop'), []);
    assert.match(only([flow], 'synack-retransmit')[0]!.summary, /the client's final ACK was missing \(lost on the network/);
  });

  it('SYN-ACKs answering SYN retransmissions, data ACKed later (suricata-verify/tcp-fastopen-10): no overflow', () => {
    const flow = buildFlow({
      id: 1,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.01, 'server', 'SA', 0, 1, 0],
        [0.03, 'client', 'S', 0, -1, 0, 'syn'],
        [0.04, 'server', 'SA', 0, 1, 0, 'synack'],
        [0.05, 'client', 'PA', 1, 1, 517],
        [0.4, 'client', 'PA', 1, 1, 517, 'data'],
        [1.0, 'server', 'SA', 0, 1, 0, 'synack'],
        [1.7, 'client', 'PA', 1, 1, 517, 'data'],
        [1.71, 'server', 'A', 1, 518, 0],
      ],
    });
    assert.deepEqual(only([flow], 'accept-overflow-drop'), []);
  });
});

describe('syn-dropped', () => {
  it('a client that goes on with ACKs after an unanswered SYN got an answer the capture missed (tcpdump/tfo)', () => {
    const tfo = buildFlow({ id: 2, segments: [[0, 'client', 'S', 0, -1, 4], [10, 'client', 'FA', 5, 0, 0]] });
    assert.deepEqual(only([cleanFlow(1), tfo], 'syn-dropped'), []);
    const q = assessCaptureQuality(inputOf([cleanFlow(1), tfo]));
    assert.ok(q.items.some((i) => i.id === 'one-direction-missing'));
  });

  it('a SYN sent right before the capture ended is not called dropped', () => {
    const late = buildFlow({ id: 2, startSeconds: T0 + 0.5, segments: [[0, 'client', 'S', 0, -1, 0]] });
    assert.deepEqual(only([cleanFlow(1), late], 'syn-dropped'), []);
    const early = buildFlow({ id: 2, startSeconds: T0, segments: [[0, 'client', 'S', 0, -1, 0]] });
    assert.equal(only([cleanFlow(1), early, cleanFlow(3, T0 + 5)], 'syn-dropped').length, 1);
  });
});

describe('one-way capture (zeek/ssh/ssh.client-side-half-duplex.pcap)', () => {
  it('SYN retransmitted then the client went on: answered, caveated and downgraded', () => {
    const flow = buildFlow({
      id: 1,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.1, 'client', 'S', 0, -1, 0, 'syn'],
        [0.2, 'client', 'S', 0, -1, 0, 'syn'],
        [0.3, 'client', 'A', 1, 1, 0],
        [0.4, 'client', 'PA', 1, 1, 40],
      ],
    });
    const [f] = only([flow, cleanFlow(2, T0 + 60)], 'syn-retransmit');
    assert.ok(f);
    assert.equal(f.severity, 'info');
    assert.ok(f.caveat?.includes('one direction'));
    assert.match(f.summary, /; it was answered late\.$/);
  });
});

describe('port-scan (zeek/nmap-vsn.pcap)', () => {
  const scanner = { ip: '192.168.1.71', port: 0 };
  const probe = (id: number, host: number, kind: 'refused' | 'silent' | 'open'): FlowRecord => {
    const segs: Seg[] =
      kind === 'refused'
        ? [[0, 'client', 'S', 0, -1, 0], [0.001, 'server', 'RA', 0, 1, 0]]
        : kind === 'silent'
          ? [[0, 'client', 'S', 0, -1, 0]]
          : [[0, 'client', 'S', 0, -1, 0], [0.001, 'server', 'SA', 0, 1, 0], [0.002, 'client', 'A', 1, 1, 0], [0.003, 'client', 'RA', 1, 1, 0]];
    return buildFlow({
      id,
      startSeconds: T0 + id * 0.1,
      client: { ip: scanner.ip, port: 58000 + id },
      server: { ip: `192.168.1.${host}`, port: 80 },
      segments: segs,
    });
  };

  it('many empty connections to many hosts from one source: one info finding, no refused/reset/dropped ones', () => {
    const kinds = ['refused', 'silent', 'open'] as const;
    const flows = Array.from({ length: 12 }, (_, i) => probe(i + 1, i + 1, kinds[i % 3]!));
    assert.deepEqual(ids(flows), ['port-scan']);
    const [f] = only(flows, 'port-scan');
    assert.equal(f?.severity, 'info');
    assert.equal(f?.count, 12);
    assert.equal(f?.endpoint, scanner.ip);
  });

  it('a few refusals are still connection-refused; probes spread over hours are no scan', () => {
    const few = [probe(1, 1, 'refused'), probe(2, 2, 'refused')];
    assert.deepEqual(ids(few), ['connection-refused', 'connection-refused']);
    const slow = Array.from({ length: 10 }, (_, i) => buildFlow({ ...{ id: i + 1 }, startSeconds: T0 + i * 3600, server: { ip: '10.0.0.3', port: i }, segments: [[0, 'client', 'S', 0, -1, 0]] }));
    assert.deepEqual(only(slow, 'port-scan'), []);
  });
});

describe('data-unacked', () => {
  it('data the peer answered with a RST (it arrived) or sent after a RST is not "never acknowledged"', () => {
    const answeredByRst = buildFlow({
      id: 1,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.001, 'server', 'SA', 0, 1, 0],
        [0.002, 'client', 'A', 1, 1, 0],
        [0.01, 'server', 'PA', 1, 1, 24],
        [0.02, 'client', 'R', 1, -1, 0],
      ],
      overrides: { unackedBytesAtEnd: { client: 0, server: 24 } },
    });
    const afterRst = buildFlow({
      id: 2,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.001, 'server', 'SA', 0, 1, 0],
        [0.002, 'client', 'A', 1, 1, 0],
        [1, 'server', 'RA', 1, 1, 0],
        [1.001, 'client', 'PA', 1, 1, 150],
      ],
      overrides: { unackedBytesAtEnd: { client: 150, server: 0 } },
    });
    assert.deepEqual(only([answeredByRst, afterRst], 'data-unacked'), []);
  });

  it('bytes in flight when the flow went idle, without retransmission, are no evidence (arkime/no-syn-ack)', () => {
    const idle = buildFlow({
      id: 1,
      segments: [[0, 'client', 'S', 0, -1, 0], [0.001, 'client', 'A', 1, 0, 0], [0.002, 'client', 'PA', 1, 0, 82]],
      overrides: { unackedBytesAtEnd: { client: 82, server: 0 }, closeReason: 'idle_timeout' },
    });
    assert.deepEqual(only([idle], 'data-unacked'), []);
  });

  it('retransmitted data never acknowledged is still reported', () => {
    const dead = buildFlow({
      id: 1,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.001, 'server', 'SA', 0, 1, 0],
        [0.002, 'client', 'A', 1, 1, 0],
        [0.01, 'client', 'PA', 1, 1, 100],
        [0.3, 'client', 'PA', 1, 1, 100, 'data'],
      ],
      overrides: { unackedBytesAtEnd: { client: 100, server: 0 }, closeReason: 'end_of_capture' },
    });
    assert.equal(only([dead], 'data-unacked').length, 1);
  });
});
