/**
 * State-machine tables: each row is one segment and the states (client, server) and Zeek history
 * string a user should see right after it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, SERVER } from './helpers.ts';
import type { Host, Step } from './helpers.ts';
import type { FlowRecord } from '../../src/tcp/index.ts';

const C_ISN = 1000;
const S_ISN = 5000;

function runTable(steps: readonly Step[], h = new Harness()): Harness {
  steps.forEach((step, i) => {
    h.send(step);
    const f = h.live();
    const where = `step ${i + 1} (${step.from} ${step.flags} seq=${step.seq})`;
    assert.equal(f.finalState.client, step.client, `client state after ${where}`);
    assert.equal(f.finalState.server, step.server, `server state after ${where}`);
    if (step.history !== undefined) assert.equal(f.history, step.history, `history after ${where}`);
  });
  return h;
}

const HANDSHAKE: Step[] = [
  { from: 'c', flags: 'S', seq: C_ISN, client: 'SYN_SENT', server: 'CLOSED', history: 'S' },
  { from: 's', flags: 'SA', seq: S_ISN, ack: C_ISN + 1, client: 'SYN_SENT', server: 'SYN_RECEIVED', history: 'Sh' },
  { from: 'c', flags: 'A', seq: C_ISN + 1, ack: S_ISN + 1, client: 'ESTABLISHED', server: 'ESTABLISHED', history: 'ShA' },
];

const EXCHANGE: Step[] = [
  ...HANDSHAKE,
  { from: 'c', flags: 'PA', seq: 1001, ack: 5001, len: 100, client: 'ESTABLISHED', server: 'ESTABLISHED', history: 'ShAD' },
  { from: 's', flags: 'PA', seq: 5001, ack: 1101, len: 200, client: 'ESTABLISHED', server: 'ESTABLISHED', history: 'ShADd' },
  { from: 'c', flags: 'A', seq: 1101, ack: 5201, client: 'ESTABLISHED', server: 'ESTABLISHED', history: 'ShADd' },
];

function transitionsOf(f: FlowRecord, side: 'client' | 'server'): string[] {
  return f.transitions.filter((t) => t.side === side).map((t) => `${t.from}>${t.to}${t.inferred ? '?' : ''}`);
}

describe('per-endpoint state machine', () => {
  it('clean close by the client: client TIME_WAIT, server CLOSED, SF', () => {
    const h = runTable([
      ...EXCHANGE,
      { from: 'c', flags: 'FA', seq: 1101, ack: 5201, client: 'FIN_WAIT_1', server: 'ESTABLISHED', history: 'ShADdF' },
      { from: 's', flags: 'A', seq: 5201, ack: 1102, client: 'FIN_WAIT_2', server: 'CLOSE_WAIT', history: 'ShADdFa' },
      { from: 's', flags: 'FA', seq: 5201, ack: 1102, client: 'FIN_WAIT_2', server: 'LAST_ACK', history: 'ShADdFaf' },
      { from: 'c', flags: 'A', seq: 1102, ack: 5202, client: 'TIME_WAIT', server: 'CLOSED', history: 'ShADdFaf' },
    ]);
    const [f] = h.finish();
    assert.ok(f);
    assert.equal(f.connState, 'SF');
    assert.equal(f.handshake, 'complete');
    assert.equal(f.closeReason, 'closed');
    assert.equal(f.counts.dataBytesClient, 100);
    assert.equal(f.counts.dataBytesServer, 200);
    assert.deepEqual(transitionsOf(f, 'client'), [
      'CLOSED>SYN_SENT',
      'SYN_SENT>ESTABLISHED',
      'ESTABLISHED>FIN_WAIT_1',
      'FIN_WAIT_1>FIN_WAIT_2',
      'FIN_WAIT_2>TIME_WAIT',
    ]);
    assert.deepEqual(transitionsOf(f, 'server'), [
      'CLOSED>SYN_RECEIVED',
      'SYN_RECEIVED>ESTABLISHED',
      'ESTABLISHED>CLOSE_WAIT',
      'CLOSE_WAIT>LAST_ACK',
      'LAST_ACK>CLOSED',
    ]);
    // The handshake ACK (frame 3) moves both sides, at the same frame.
    const established = f.transitions.filter((t) => t.to === 'ESTABLISHED');
    assert.deepEqual(established.map((t) => t.frame), [3, 3]);
    assert.ok(f.transitions.every((t) => !t.inferred));
    assert.equal(f.unackedBytesAtEnd.client, 0);
    assert.equal(f.unackedBytesAtEnd.server, 0);
  });

  it('clean close by the server (3-segment close): server TIME_WAIT, client CLOSED', () => {
    const h = runTable([
      ...EXCHANGE,
      { from: 's', flags: 'FA', seq: 5201, ack: 1101, client: 'ESTABLISHED', server: 'FIN_WAIT_1', history: 'ShADdf' },
      { from: 'c', flags: 'FA', seq: 1101, ack: 5202, client: 'LAST_ACK', server: 'FIN_WAIT_2', history: 'ShADdfF' },
      { from: 's', flags: 'A', seq: 5202, ack: 1102, client: 'CLOSED', server: 'TIME_WAIT', history: 'ShADdfFa' },
    ]);
    const [f] = h.finish();
    assert.equal(f?.connState, 'SF');
  });

  it('crossing FINs: CLOSING on both sides, then TIME_WAIT on both', () => {
    const h = runTable([
      ...HANDSHAKE,
      { from: 'c', flags: 'FA', seq: 1001, ack: 5001, client: 'FIN_WAIT_1', server: 'ESTABLISHED' },
      { from: 's', flags: 'FA', seq: 5001, ack: 1001, client: 'FIN_WAIT_1', server: 'FIN_WAIT_1' },
      { from: 'c', flags: 'A', seq: 1002, ack: 5002, client: 'CLOSING', server: 'FIN_WAIT_1' },
      { from: 's', flags: 'A', seq: 5002, ack: 1002, client: 'TIME_WAIT', server: 'TIME_WAIT' },
    ]);
    const [f] = h.finish();
    assert.ok(f);
    assert.deepEqual(transitionsOf(f, 'client').slice(-3), ['ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>CLOSING', 'CLOSING>TIME_WAIT']);
    assert.deepEqual(transitionsOf(f, 'server').slice(-3), ['ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>CLOSING', 'CLOSING>TIME_WAIT']);
    assert.equal(f.connState, 'SF');
  });

  it('half close: the server keeps sending after the client FIN, then closes', () => {
    const h = runTable([
      ...HANDSHAKE,
      { from: 'c', flags: 'FA', seq: 1001, ack: 5001, client: 'FIN_WAIT_1', server: 'ESTABLISHED' },
      { from: 's', flags: 'A', seq: 5001, ack: 1002, client: 'FIN_WAIT_2', server: 'CLOSE_WAIT' },
      { from: 's', flags: 'PA', seq: 5001, ack: 1002, len: 1000, client: 'FIN_WAIT_2', server: 'CLOSE_WAIT' },
      { from: 'c', flags: 'A', seq: 1002, ack: 6001, client: 'FIN_WAIT_2', server: 'CLOSE_WAIT' },
      { from: 's', flags: 'FA', seq: 6001, ack: 1002, client: 'FIN_WAIT_2', server: 'LAST_ACK' },
      { from: 'c', flags: 'A', seq: 1002, ack: 6002, client: 'TIME_WAIT', server: 'CLOSED' },
    ]);
    const [f] = h.finish();
    assert.equal(f?.counts.dataBytesServer, 1000);
  });

  it('RST by the client after the handshake: both CLOSED, RSTO', () => {
    const h = runTable([
      ...EXCHANGE,
      { from: 'c', flags: 'R', seq: 1101, client: 'CLOSED', server: 'CLOSED', history: 'ShADdR' },
    ]);
    const [f] = h.finish();
    assert.equal(f?.connState, 'RSTO');
    assert.equal(f?.closeReason, 'reset');
    assert.equal(f?.counts.rstClient, 1);
  });

  it('RST by the server after the handshake, before server data: RSTR and reset_after_ack', () => {
    const h = runTable([
      ...HANDSHAKE,
      { from: 'c', flags: 'PA', seq: 1001, ack: 5001, len: 50, client: 'ESTABLISHED', server: 'ESTABLISHED' },
      { from: 's', flags: 'RA', seq: 5001, ack: 1051, client: 'CLOSED', server: 'CLOSED', history: 'ShADr' },
    ]);
    const [f] = h.finish();
    assert.equal(f?.connState, 'RSTR');
    assert.equal(f?.handshake, 'reset_after_ack');
  });

  it('an out-of-window RST closes only its sender and is a weird', () => {
    const weirds: string[] = [];
    const h = new Harness({ onWeird: (name) => weirds.push(name) });
    runTable(
      [
        ...EXCHANGE,
        { from: 's', flags: 'R', seq: 5201 + 10_000_000, client: 'ESTABLISHED', server: 'CLOSED' },
      ],
      h,
    );
    assert.deepEqual(weirds, ['rst_out_of_window']);
  });

  it('refused: SYN answered by RST-ACK gives REJ and handshake refused', () => {
    const h = runTable([
      { from: 'c', flags: 'S', seq: C_ISN, client: 'SYN_SENT', server: 'CLOSED', history: 'S' },
      { from: 's', flags: 'RA', seq: 0, ack: C_ISN + 1, client: 'CLOSED', server: 'CLOSED', history: 'Sr' },
    ]);
    const [f] = h.finish();
    assert.equal(f?.connState, 'REJ');
    assert.equal(f?.handshake, 'refused');
  });

  it('SYN retransmissions with the same ISN stay one flow: S0, still SYN_SENT at the end', () => {
    const h = new Harness();
    h.send({ from: 'c', flags: 'S', seq: C_ISN }, 1000);
    h.send({ from: 'c', flags: 'S', seq: C_ISN }, 2000);
    h.send({ from: 'c', flags: 'S', seq: C_ISN }, 4000);
    const flows = h.finish();
    assert.equal(flows.length, 1);
    const f = flows[0]!;
    assert.equal(f.counts.syn, 3);
    assert.equal(f.counts.synRetransmissions, 2);
    assert.equal(f.finalState.client, 'SYN_SENT');
    assert.equal(f.finalState.server, 'CLOSED');
    assert.equal(f.handshake, 'no_synack');
    assert.equal(f.connState, 'S0');
    assert.equal(f.history, 'S');
    // Measured to the last packet of the capture (t0 + 3 s), not to some wall clock.
    assert.equal(f.secondsInFinalState.client, 3);
    assert.deepEqual(
      f.segments.map((s) => s.retransmission),
      [undefined, 'syn', 'syn'],
    );
  });

  it('a SYN with a new ISN after a close starts incarnation 2 with previous filled', () => {
    const h = new Harness();
    for (const s of [
      ...EXCHANGE,
      { from: 'c', flags: 'FA', seq: 1101, ack: 5201 },
      { from: 's', flags: 'FA', seq: 5201, ack: 1102 },
      { from: 'c', flags: 'A', seq: 1102, ack: 5202 },
    ] as const) {
      h.send(s);
    }
    h.advance(2000);
    h.send({ from: 'c', flags: 'S', seq: 900_000 });
    h.send({ from: 's', flags: 'SA', seq: 700_000, ack: 900_001 });
    const flows = h.finish();
    assert.equal(flows.length, 2);
    const [first, second] = flows as [FlowRecord, FlowRecord];
    assert.equal(first.incarnation, 1);
    assert.equal(first.closeReason, 'closed');
    assert.equal(first.finalState.client, 'TIME_WAIT');
    assert.equal(second.id, 2);
    assert.equal(second.incarnation, 2);
    assert.equal(second.firstFrame, 10);
    assert.ok(second.previous);
    assert.equal(second.previous.flowId, 1);
    assert.equal(second.previous.finalState.client, 'TIME_WAIT');
    assert.equal(second.previous.finalState.server, 'CLOSED');
    assert.equal(second.previous.sameClient, true);
    assert.ok(Math.abs(second.previous.secondsSinceLastPacket - 2.01) < 1e-6);
    assert.equal(second.finalState.client, 'SYN_SENT');
    assert.equal(second.finalState.server, 'SYN_RECEIVED');
  });

  // A history past the ten letters packed in one number (the rest go to an overflow list):
  // zero windows and retransmissions at Zeek's logarithmic counts 1 and 10, both directions.
  // The expected text is what the string-building implementation gave for the same segments.
  it('a long history (16 letters: W/w and T/t at counts 1 and 10) reads back in order', () => {
    const h = new Harness();
    for (const s of EXCHANGE.slice(0, 5)) h.send(s);
    for (let i = 0; i < 12; i++) h.send({ from: 'c', flags: 'A', seq: 1101, ack: 5201, window: 0 });
    for (let i = 0; i < 12; i++) h.send({ from: 's', flags: 'A', seq: 5201, ack: 1101, window: 0 });
    for (let i = 0; i < 12; i++) h.send({ from: 'c', flags: 'PA', seq: 1001, ack: 5201, len: 100 });
    for (let i = 0; i < 12; i++) h.send({ from: 's', flags: 'PA', seq: 5001, ack: 1101, len: 200 });
    h.send({ from: 'c', flags: 'FA', seq: 1101, ack: 5201 });
    h.send({ from: 's', flags: 'RA', seq: 5201, ack: 1102 });
    const [flow] = h.finish();
    assert.equal(flow?.history, 'ShADdWWawwTTttFr');
    assert.equal(flow?.connState, 'RSTR');
  });

  // The memories of closed tuples sit in a queue that grows as they pile up (from 1024 slots) up
  // to maxRememberedClosed: a reuse links to the tuple's last connection while its memory is
  // kept, whichever slot and growth step it went through, and not once the limit pushed it out.
  it('links a reused tuple to its previous connection across queue growth, and not past maxRememberedClosed', () => {
    const tuples = 3000;
    for (const limit of [1_048_576, 2500]) {
      const h = new Harness({ maxRememberedClosed: limit });
      const client = (i: number): Host => ({ ip: 0x0a000100 + i, port: 40000 });
      // First, 600 connections on other tuples whose memories age out (past rememberClosedSeconds)
      // before the rounds below: the queue's head has moved when it grows, so growth must unwrap it.
      for (let i = 0; i < 600; i++) {
        h.send({ from: 'c', flags: 'S', seq: 7 }, 1, { ip: 0x0b000000 + i, port: 40000 }, SERVER);
        h.send({ from: 's', flags: 'R', seq: 0, ack: 8 }, 1, { ip: 0x0b000000 + i, port: 40000 }, SERVER);
      }
      h.advance(70_000);
      // Round 1: one RST-closed connection per tuple; 30 s later (past every linger, so all of
      // them have left the table and are memories), round 2: each tuple again, in the same order.
      for (const round of [0, 1]) {
        if (round === 1) h.advance(30_000);
        for (let i = 0; i < tuples; i++) {
          h.send({ from: 'c', flags: 'S', seq: 1000 + round * 50_000 }, 1, client(i), SERVER);
          h.send({ from: 's', flags: 'R', seq: 0, ack: 1001 + round * 50_000 }, 1, client(i), SERVER);
        }
      }
      const flows = h.finish();
      assert.equal(flows.length, 600 + 2 * tuples);
      const second = flows.slice(600 + tuples);
      const linked = second.filter((f, i) => f.previous?.flowId === 600 + i + 1).length;
      // With the limit, the first (tuples - limit) memories were pushed out by the later ones.
      assert.equal(linked, Math.min(tuples, limit), `limit ${limit}`);
      assert.equal(second[0]?.previous === undefined, limit < tuples);
      assert.ok(second.every((f, i) => f.previous === undefined || f.previous.flowId === 600 + i + 1));
    }
  });

  it('TIME_WAIT reuse: the new SYN arrives while the server still sits in TIME_WAIT', () => {
    const h = new Harness();
    for (const s of [
      ...EXCHANGE,
      { from: 's', flags: 'FA', seq: 5201, ack: 1101 },
      { from: 'c', flags: 'FA', seq: 1101, ack: 5202 },
      { from: 's', flags: 'A', seq: 5202, ack: 1102 },
    ] as const) {
      h.send(s);
    }
    h.send({ from: 'c', flags: 'S', seq: 50_000 });
    const flows = h.finish();
    assert.equal(flows.length, 2);
    assert.equal(flows[1]?.previous?.finalState.server, 'TIME_WAIT');
    assert.ok((flows[1]?.previous?.secondsSinceLastPacket ?? 99) < 1);
  });

  it('a repeated SYN with the same ISN after a RST is a retransmission, not a new flow', () => {
    const h = new Harness();
    h.send({ from: 'c', flags: 'S', seq: C_ISN });
    h.send({ from: 's', flags: 'RA', seq: 0, ack: C_ISN + 1 });
    h.send({ from: 'c', flags: 'S', seq: C_ISN });
    const flows = h.finish();
    assert.equal(flows.length, 1);
    assert.equal(flows[0]?.counts.synRetransmissions, 1);
  });

  it('mid-stream start: sides are UNKNOWN, then ESTABLISHED on evidence; roles from the port', () => {
    const h = runTable([
      { from: 's', flags: 'PA', seq: 70_000, ack: 30_000, len: 500, client: 'CLOSED', server: 'ESTABLISHED' },
      { from: 'c', flags: 'A', seq: 30_000, ack: 70_500, client: 'ESTABLISHED', server: 'ESTABLISHED' },
    ]);
    const [f] = h.finish();
    assert.ok(f);
    assert.equal(f.rolesInferred, true);
    assert.equal(f.roleReason, 'port');
    assert.equal(f.server.port, 80);
    assert.equal(f.client.port, 40000);
    assert.equal(f.handshake, 'not_seen');
    assert.deepEqual(transitionsOf(f, 'server'), ['UNKNOWN>ESTABLISHED']);
  });

  it('a side seen only sending pure ACKs stays UNKNOWN', () => {
    const h = runTable([
      { from: 'c', flags: 'A', seq: 30_000, ack: 70_500, client: 'UNKNOWN', server: 'CLOSED' },
    ]);
    const [f] = h.finish();
    assert.equal(f?.connState, 'OTH');
  });

  it('SYN-ACK first: roles from the SYN-ACK, Zeek flips (^)', () => {
    const h = runTable([
      { from: 's', flags: 'SA', seq: S_ISN, ack: C_ISN + 1, client: 'CLOSED', server: 'SYN_RECEIVED', history: '^h' },
      { from: 'c', flags: 'A', seq: C_ISN + 1, ack: S_ISN + 1, client: 'ESTABLISHED', server: 'ESTABLISHED', history: '^hA' },
    ]);
    const [f] = h.finish();
    assert.equal(f?.roleReason, 'synack');
    assert.equal(f?.rolesInferred, true);
    assert.equal(f?.client.port, 40000);
    assert.equal(f?.handshake, 'complete');
  });

  it('lost FIN: inferred from the peer ACKing one octet beyond the data', () => {
    const h = runTable([
      ...EXCHANGE,
      { from: 's', flags: 'A', seq: 5201, ack: 1102, client: 'FIN_WAIT_2', server: 'CLOSE_WAIT' },
    ]);
    const [f] = h.finish();
    assert.ok(f);
    const fin = f.transitions.find((t) => t.side === 'client' && t.to === 'FIN_WAIT_1');
    assert.ok(fin);
    assert.equal(fin.inferred, true);
    assert.equal(fin.frame, 7);
    assert.equal(f.counts.finClient, 0);
  });

  it('missing final handshake ACK: server data proves the handshake, both ESTABLISHED inferred', () => {
    const h = runTable([
      HANDSHAKE[0]!,
      HANDSHAKE[1]!,
      { from: 's', flags: 'PA', seq: 5001, ack: 1001, len: 20, client: 'ESTABLISHED', server: 'ESTABLISHED' },
    ]);
    const [f] = h.finish();
    assert.ok(f);
    assert.ok(f.transitions.filter((t) => t.to === 'ESTABLISHED').every((t) => t.inferred));
    assert.equal(f.handshake, 'complete');
  });

  it('SYN and SYN-ACK only: half_open', () => {
    const h = runTable([HANDSHAKE[0]!, HANDSHAKE[1]!]);
    const [f] = h.finish();
    assert.equal(f?.handshake, 'half_open');
    assert.equal(f?.connState, 'S1');
  });
  it('accept queue full (abort_on_overflow 0): a SYN-ACK resent after the ACK retracts the server ESTABLISHED', () => {
    const h = runTable([
      ...HANDSHAKE,
      { from: 'c', flags: 'PA', seq: 1001, ack: 5001, len: 24, client: 'ESTABLISHED', server: 'ESTABLISHED' },
      { from: 's', flags: 'SA', seq: S_ISN, ack: C_ISN + 1, client: 'ESTABLISHED', server: 'SYN_RECEIVED' },
      { from: 'c', flags: 'A', seq: 1025, ack: 5001, client: 'ESTABLISHED', server: 'SYN_RECEIVED' },
      { from: 's', flags: 'SA', seq: S_ISN, ack: C_ISN + 1, client: 'ESTABLISHED', server: 'SYN_RECEIVED' },
    ]);
    const [f] = h.finish();
    assert.ok(f);
    assert.deepEqual(transitionsOf(f, 'server'), ['CLOSED>SYN_RECEIVED']);
    assert.equal(f.handshake, 'complete');
    assert.equal(f.counts.synAckRetransmissions, 2);
  });

  it('a retracted server ESTABLISHED comes back, inferred, when the server acknowledges client data', () => {
    const h = runTable([
      ...HANDSHAKE,
      { from: 'c', flags: 'PA', seq: 1001, ack: 5001, len: 24, client: 'ESTABLISHED', server: 'ESTABLISHED' },
      { from: 's', flags: 'SA', seq: S_ISN, ack: C_ISN + 1, client: 'ESTABLISHED', server: 'SYN_RECEIVED' },
      { from: 's', flags: 'A', seq: 5001, ack: 1025, client: 'ESTABLISHED', server: 'ESTABLISHED' },
    ]);
    const [f] = h.finish();
    assert.ok(f);
    assert.deepEqual(transitionsOf(f, 'server'), ['CLOSED>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED?']);
  });

  it('a SYN-ACK resent after the server acknowledged client data does not retract ESTABLISHED', () => {
    runTable([
      ...HANDSHAKE,
      { from: 'c', flags: 'PA', seq: 1001, ack: 5001, len: 24, client: 'ESTABLISHED', server: 'ESTABLISHED' },
      { from: 's', flags: 'A', seq: 5001, ack: 1025, client: 'ESTABLISHED', server: 'ESTABLISHED' },
      { from: 's', flags: 'SA', seq: S_ISN, ack: C_ISN + 1, client: 'ESTABLISHED', server: 'ESTABLISHED' },
    ]);
  });
});
