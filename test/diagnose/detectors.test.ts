import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runDetectors } from '../../src/diagnose/index.ts';
import type { Finding } from '../../src/diagnose/index.ts';
import { analyzeSynRetries, classifySynBackoff } from '../../src/diagnose/syn-retransmit.ts';
import { groupEpisodes, matchOverflowReset } from '../../src/diagnose/accept-overflow-rst.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from '../../src/diagnose/options.ts';
import type { FlowRecord } from '../../src/tcp/types.ts';
import { buildFlow, cleanFlow, inputOf, T0 } from './flow-builder.ts';
import type { Seg } from './flow-builder.ts';

const findings = (flows: FlowRecord[], capture = {}): Finding[] => runDetectors(inputOf(flows, capture)).findings;
const only = (flows: FlowRecord[], id: string, capture = {}): Finding[] => findings(flows, capture).filter((f) => f.id === id);
const ids = (flows: FlowRecord[]): string[] => findings(flows).map((f) => f.id);

const synSeq = (times: number[]): Seg[] => times.map((t, i) => [t, 'client', 'S', 0, -1, 0, i === 0 ? undefined : 'syn'] as Seg);

describe('syn-retransmit', () => {
  it('infers exponential backoff and a late answer', () => {
    const flow = buildFlow({ id: 1, segments: [...synSeq([0, 1, 3]), [3.0001, 'server', 'SA', 0, 1, 0], [3.0002, 'client', 'A', 1, 1, 0]] });
    const [f] = only([flow], 'syn-retransmit');
    assert.ok(f);
    assert.equal(f.count, 1);
    assert.equal(f.severity, 'warning');
    assert.equal(f.details?.['backoff'], 'exponential');
    // One connection: its retries in words, its gaps, no "up to N per connection".
    assert.match(f.summary, /^1 connection to .+ retransmitted the SYN twice \(gaps 1, 2 s, exponential backoff/);
    assert.equal(f.wiresharkFilter, 'frame.number in {100 101 102}');
    const a = analyzeSynRetries(flow, flow.endSeconds, 0.3);
    assert.equal(a.retries, 2);
    assert.equal(a.answered, true);
    assert.equal(a.connectSeconds, 3.0001);
  });

  it('recognises Linux 6.5+ linear timeouts and Windows 3 s', () => {
    assert.equal(classifySynBackoff([1, 1, 1, 1, 1, 2], 0.3), 'linear-then-exponential');
    assert.equal(classifySynBackoff([1.02, 2.01, 4.03], 0.3), 'exponential');
    assert.equal(classifySynBackoff([3, 6], 0.3), 'windows');
    assert.equal(classifySynBackoff([1], 0.3), 'undetermined');
  });

  it('says how several connections ended, only the outcomes that occurred', () => {
    const answered = buildFlow({ id: 1, segments: [...synSeq([0, 1, 3]), [3.0001, 'server', 'SA', 0, 1, 0], [3.0002, 'client', 'A', 1, 1, 0]] });
    // Its last SYN at 3 s and the capture ending 1 s later: too early to say it gave up.
    const pending = buildFlow({ id: 2, client: { ip: '10.0.0.9', port: 40002 }, segments: synSeq([0, 1, 3]) });
    const [f] = only([answered, pending, cleanFlow(3, T0 + 4)], 'syn-retransmit');
    assert.match(f!.summary, /^2 connections to .+ retransmitted the SYN 4 times \(up to 2 per connection, gaps 1, 2 s, .*\); 1 answered late, 1 still unanswered when the capture ended\.$/);
  });

  it('says "once each" when several connections resent their SYN once', () => {
    const one = (id: number, port: number) =>
      buildFlow({ id, client: { ip: '10.0.0.9', port }, segments: [...synSeq([0, 1]), [1.0001, 'server', 'SA', 0, 1, 0], [1.0002, 'client', 'A', 1, 1, 0]] });
    const [f] = only([one(1, 40001), one(2, 40002), cleanFlow(3, T0 + 4)], 'syn-retransmit');
    assert.match(f!.summary, /^2 connections to .+ retransmitted the SYN twice \(once each, gap 1 s, .*\); 2 answered late\.$/);
  });

  it('says the client gave up when the capture ran past the next retry, error severity', () => {
    const flow = buildFlow({ id: 1, segments: synSeq([0, 1, 3]) });
    const other = cleanFlow(2, T0 + 20);
    const [f] = only([flow, other], 'syn-retransmit');
    assert.equal(f?.severity, 'error');
    assert.match(f!.summary, /; the client gave up\.$/);
    assert.match(f!.explanation, /tcp_syn_retries = 2/);
    // capture ended right after the last SYN: unknown, not "gave up"
    assert.equal(analyzeSynRetries(flow, flow.endSeconds, 0.3).gaveUp, 'unknown');
  });

  it('no finding without retransmission', () => {
    assert.deepEqual(only([cleanFlow(1)], 'syn-retransmit'), []);
  });
});

describe('syn-dropped and connection-refused', () => {
  it('unanswered SYN while the listener answered others', () => {
    const dropped = buildFlow({ id: 2, segments: synSeq([0, 1]) });
    const [f] = only([cleanFlow(1), dropped], 'syn-dropped');
    assert.ok(f);
    assert.deepEqual(f.flows, [2]);
    assert.equal(f.endpoint, '10.0.0.2:8080');
    assert.match(f.summary, /answered 1 other connection/);
  });

  it('no syn-dropped when the listener answered nobody (it may not exist)', () => {
    assert.deepEqual(only([buildFlow({ id: 2, segments: synSeq([0, 1]) })], 'syn-dropped'), []);
  });

  it('a capture near the client downgrades it: the SYN may have been lost anywhere', () => {
    const far = { ttl: { client: 64, server: 60 } };
    const ok = buildFlow({ id: 1, segments: cleanFlow(1).segments.map((s) => [s.relSeconds, s.from, s.flags, s.seq, s.ack, s.len] as Seg), overrides: far });
    const dropped = buildFlow({ id: 2, segments: synSeq([0, 1]) });
    const [f] = only([ok, dropped], 'syn-dropped');
    assert.equal(f?.severity, 'warning');
    assert.match(f!.explanation, /near the client/);
  });

  it('refused: SYN answered by RST/ACK, IPv6 endpoint in brackets', () => {
    const flow = buildFlow({
      id: 1,
      client: { ip: 'fd77::1', port: 40001 },
      server: { ip: 'fd77::2', port: 81 },
      segments: [[0, 'client', 'S', 0, -1, 0], [0.0001, 'server', 'RA', 0, 1, 0]],
    });
    const [f] = only([flow], 'connection-refused');
    assert.equal(f?.endpoint, '[fd77::2]:81');
    assert.deepEqual(ids([flow]), ['connection-refused']);
  });
});

/** Handshake, then the server's RST at seq 1 `delay` s after the client's ACK. */
const overflowFlow = (id: number, start: number, delay = 0.0002): FlowRecord =>
  buildFlow({
    id,
    startSeconds: start,
    segments: [
      [0, 'client', 'S', 0, -1, 0],
      [0.0001, 'server', 'SA', 0, 1, 0],
      [0.0002, 'client', 'A', 1, 1, 0],
      [0.0002 + delay, 'server', 'R', 1, -1, 0],
    ],
    overrides: { handshake: 'reset_after_ack' },
  });

describe('accept-overflow-rst', () => {
  it('groups resets per listener into saturation episodes, counting connections that got through', () => {
    const flows = [overflowFlow(1, T0), overflowFlow(2, T0 + 0.1), cleanFlow(3, T0 + 0.05), overflowFlow(4, T0 + 10)];
    const [f] = only(flows, 'accept-overflow-rst');
    assert.ok(f);
    assert.equal(f.count, 3);
    assert.equal(f.severity, 'error');
    const episodes = f.details?.['episodes'] as { resets: number; gotThrough: number }[];
    assert.deepEqual(
      episodes.map((e) => [e.resets, e.gotThrough]),
      [
        [2, 1],
        [1, 0],
      ],
    );
    assert.match(f.summary, /3 connections.*2 saturation episodes/);
    assert.equal(f.wiresharkFilter, 'frame.number in {102 103 202 203 402 403}');
    assert.ok(!ids(flows).includes('reset'), 'overflow resets are not repeated as generic resets');
  });

  it('a late RST or one after server data is not an overflow', () => {
    assert.equal(matchOverflowReset(overflowFlow(1, T0, 0.5), DEFAULT_DIAGNOSE_OPTIONS['accept-overflow-rst']), undefined);
    const withData = buildFlow({
      id: 2,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.0001, 'server', 'SA', 0, 1, 0],
        [0.0002, 'client', 'A', 1, 1, 0],
        [0.0003, 'server', 'PA', 1, 1, 10],
        [0.0004, 'server', 'R', 11, -1, 0],
      ],
    });
    assert.equal(matchOverflowReset(withData, DEFAULT_DIAGNOSE_OPTIONS['accept-overflow-rst']), undefined);
  });

  it('groupEpisodes splits on the gap', () => {
    const rs = [overflowFlow(1, T0), overflowFlow(2, T0 + 0.5), overflowFlow(3, T0 + 3)].map(
      (f) => matchOverflowReset(f, DEFAULT_DIAGNOSE_OPTIONS['accept-overflow-rst'])!,
    );
    assert.deepEqual(
      groupEpisodes(rs, () => 0, 1).map((e) => e.flows),
      [[1, 2], [3]],
    );
  });
});

describe('accept-overflow-drop and synack-retransmit', () => {
  const dropped = (id: number) =>
    buildFlow({
      id,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.0001, 'server', 'SA', 0, 1, 0],
        [0.01, 'client', 'A', 1, 1, 0],
        [0.1, 'client', 'PA', 1, 1, 24],
        [0.3, 'client', 'PA', 1, 1, 24, 'data'],
        [1.0, 'server', 'SA', 0, 1, 0, 'synack'],
        [1.01, 'client', 'A', 25, 1, 0],
      ],
      overrides: { unackedBytesAtEnd: { client: 24, server: 0 }, closeReason: 'end_of_capture' },
    });

  it('final ACK captured, SYN-ACK resent, data never ACKed: accept-overflow-drop and synack-retransmit', () => {
    const all = findings([dropped(1), dropped(2)]);
    assert.deepEqual(all.map((f) => [f.id, f.count]), [
      ['accept-overflow-drop', 2],
      ['synack-retransmit', 2],
    ]);
    assert.match(all[1]!.summary, /the client's final ACK was captured on both \(the server dropped it\)\.$/);
  });

  it('final ACK lost before the server but data ACKed at once: only synack-retransmit', () => {
    const flow = buildFlow({
      id: 1,
      segments: [
        [0, 'client', 'S', 0, -1, 0],
        [0.0001, 'server', 'SA', 0, 1, 0],
        [0.0002, 'client', 'A', 1, 1, 0],
        [1.0, 'server', 'SA', 0, 1, 0, 'synack'],
        [1.0001, 'client', 'A', 1, 1, 0],
        [3.5, 'client', 'PA', 1, 1, 24],
        [3.5001, 'server', 'A', 1, 25, 0],
      ],
    });
    assert.deepEqual(ids([flow]), ['synack-retransmit']);
  });

  it('SYN-ACK resent and no final ACK: lost on the network', () => {
    const flow = buildFlow({ id: 1, segments: [[0, 'client', 'S', 0, -1, 0], [0.0001, 'server', 'SA', 0, 1, 0], [1, 'server', 'SA', 0, 1, 0, 'synack']] });
    const [f] = only([flow], 'synack-retransmit');
    assert.match(f!.summary, /resent once; the client's final ACK was missing \(lost on the network, or the SYN-ACK answered a resent SYN\)\.$/);
  });
});
