/**
 * Turns a live {@link FlowState} into its {@link FlowRecord} (the `flows[]` entry of
 * `tcpmortem/1`). Runs once per flow, when it leaves the live table; this is where strings are
 * built (addresses, ISO times, flag text), never on the per-packet path.
 *
 * @module
 */

import { formatAddress } from '../decode/address-text.ts';
import { flagsToText } from '../decode/flags-text.ts';
import { relativeSeq, seqDiff, seqLt } from '../flow/seq.ts';
import { SAMPLE_FIELDS, STATE_BY_CODE, stateCode, TRANSITION_FIELDS } from './flow-state.ts';
import type { EndpointTrack, FlowState } from './flow-state.ts';
import type { IsoFormatter } from './iso-time.ts';
import type { FlowRecord, HandshakeOutcome, SegmentSample, TcpState, Transition } from './types.ts';

/** Sample retransmission names by RETX_* code (see flow-state.ts). */
const RETX_NAMES: readonly (SegmentSample['retransmission'] | undefined)[] = [
  undefined,
  'syn',
  'synack',
  'fin',
  'data',
  'keepalive',
];

/** Bound of each intern map below; when reached the map is cleared (interning is only a saving). */
const MAX_INTERNED = 65536;

/**
 * Shared values for the records one tracker emits: the ISO formatter, and interned strings and
 * small frozen objects so hundreds of thousands of retained records share them. Why: address
 * text repeats across a capture's flows (a few thousand hosts, ~24 bytes per copy) and
 * `finalState`/`ttl` take a few dozen distinct values (~20 bytes per object per flow). Shared
 * objects are frozen; records are read-only by contract.
 */
export class RecordContext {
  private readonly v4Addresses = new Map<number, string>();
  private readonly otherAddresses = new Map<string, string>();
  private readonly statePairs = new Map<number, FlowRecord['finalState']>();
  private readonly ttlPairs = new Map<number, FlowRecord['ttl']>();

  /**
   * @param iso - formatter with the capture's timestamp precision.
   * @param keepRoutineSamplesOfFirstFlows - see FlowTrackerOptions.
   */
  constructor(
    readonly iso: IsoFormatter,
    readonly keepRoutineSamplesOfFirstFlows: number,
  ) {}

  /** Address text of four words (IPv4 is stored IPv4-mapped), interned. */
  address(w0: number, w1: number, w2: number, w3: number): string {
    if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
      let text = this.v4Addresses.get(w3);
      if (text === undefined) {
        if (this.v4Addresses.size >= MAX_INTERNED) this.v4Addresses.clear();
        text = formatAddress(w0, w1, w2, w3);
        this.v4Addresses.set(w3, text);
      }
      return text;
    }
    const fresh = formatAddress(w0, w1, w2, w3);
    const text = this.otherAddresses.get(fresh);
    if (text !== undefined) return text;
    if (this.otherAddresses.size >= MAX_INTERNED) this.otherAddresses.clear();
    this.otherAddresses.set(fresh, fresh);
    return fresh;
  }

  /** A shared frozen `{client, server}` pair of states. */
  states(client: TcpState, server: TcpState): FlowRecord['finalState'] {
    const key = stateCode(client) * 16 + stateCode(server);
    let pair = this.statePairs.get(key);
    if (pair === undefined) {
      pair = Object.freeze({ client, server });
      this.statePairs.set(key, pair);
    }
    return pair;
  }

  /** A shared frozen `{client, server}` pair of TTLs (-1..255 each). */
  ttl(client: number, server: number): FlowRecord['ttl'] {
    const key = (client + 1) * 512 + (server + 1);
    let pair = this.ttlPairs.get(key);
    if (pair === undefined) {
      pair = Object.freeze({ client, server });
      this.ttlPairs.set(key, pair);
    }
    return pair;
  }
}

/** Rounds to microsecond resolution (milliseconds with 3 decimals), so JSON stays short and stable. */
function roundMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

/** Rounds seconds to nanoseconds, hiding float noise from the subtraction of epoch seconds. */
function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1e9) / 1e9;
}

/**
 * The handshake outcome (see {@link HandshakeOutcome}):
 * - no SYN and no SYN-ACK seen: `not_seen`;
 * - SYN(s) but no SYN-ACK: `refused` when the server answered with a RST, else `no_synack`;
 * - SYN-ACK but the client never acknowledged it (not even implied): `half_open`;
 * - completed, then a RST from either side before the server sent any payload: `reset_after_ack`;
 * - otherwise `complete`.
 */
export function handshakeOutcome(f: FlowState): HandshakeOutcome {
  const c = f.client;
  const s = f.server;
  const synSeen = f.counts.syn > 0 && c.synSent;
  const synAckSeen = f.counts.synAck > 0 && s.synSent;
  if (!synSeen && !synAckSeen) return 'not_seen';
  if (!synAckSeen) return s.rstSent ? 'refused' : 'no_synack';
  if (!s.ownSynAcked) return 'half_open';
  if ((c.rstSent || s.rstSent) && s.dataBytes === 0) return 'reset_after_ack';
  return 'complete';
}

/** Bytes this side sent that the peer had not acknowledged at the end (0 when unknown). */
function unackedBytes(ep: EndpointTrack, peer: EndpointTrack): number {
  if (!ep.seqKnown || !peer.sent) return 0;
  if (!ep.ackRcvdKnown) return ep.dataBytes;
  let d = seqDiff(ep.sndNxt, ep.highestAckRcvd);
  // SYN and FIN occupy a sequence number each but are not bytes.
  if (ep.finSent && seqLt(ep.highestAckRcvd, (ep.finSeq + 1) >>> 0)) d--;
  if (ep.synSent && !ep.ownSynAcked) d--;
  return d > 0 ? d : 0;
}

function buildSample(f: FlowState, arr: readonly number[], at: number): SegmentSample {
  const fromClient = arr[at + 3] === 1;
  const ep = fromClient ? f.client : f.server;
  const peer = fromClient ? f.server : f.client;
  const ackNumber = arr[at + 6]!;
  const retx = RETX_NAMES[arr[at + 9]!];
  const base: SegmentSample = {
    frame: arr[at]!,
    relSeconds: roundSeconds(arr[at + 1]! - f.firstSec + (arr[at + 2]! - f.firstNanos) * 1e-9),
    from: fromClient ? 'client' : 'server',
    flags: flagsToText(arr[at + 4]!),
    seq: relativeSeq(arr[at + 5]!, ep.base),
    ack: ackNumber < 0 ? -1 : peer.seqKnown ? relativeSeq(ackNumber, peer.base) : ackNumber,
    len: arr[at + 7]!,
    window: arr[at + 8]!,
  };
  return retx === undefined ? base : { ...base, retransmission: retx };
}

function buildSamples(f: FlowState, maxTail: number): { segments: SegmentSample[]; omitted: number } {
  const segments: SegmentSample[] = [];
  for (let at = 0; at < f.samples.length; at += SAMPLE_FIELDS) segments.push(buildSample(f, f.samples, at));
  let omitted = 0;
  if (f.tail !== null && maxTail > 0) {
    const kept = Math.min(f.tailCount, maxTail);
    omitted = f.tailCount - kept;
    const start = f.tailCount - kept;
    for (let i = start; i < f.tailCount; i++) {
      segments.push(buildSample(f, f.tail, (i % maxTail) * SAMPLE_FIELDS));
    }
  } else {
    omitted = f.tailCount;
  }
  return { segments, omitted };
}

function zeekContinuations(f: FlowState): Pick<FlowRecord, 'zeekContinuations'> {
  const rest = f.zeek.continuations();
  return rest.length === 0 ? {} : { zeekContinuations: rest };
}

/** Formats the packed transitions (see TRANSITION_FIELDS) into their JSON objects. */
function buildTransitions(f: FlowState, iso: IsoFormatter): { transitions: Transition[]; anyInferred: boolean } {
  const tr = f.transitions;
  const transitions: Transition[] = [];
  let anyInferred = false;
  for (let at = 0; at + TRANSITION_FIELDS <= tr.length; at += TRANSITION_FIELDS) {
    const tsSec = tr[at + 1]!;
    const tsNanos = tr[at + 2]!;
    const code = tr[at + 3]!;
    const inferred = (code & 2) !== 0;
    if (inferred) anyInferred = true;
    transitions.push({
      frame: tr[at]!,
      ts: iso.format(tsSec, tsNanos),
      tSeconds: tsSec + tsNanos * 1e-9,
      side: (code & 1) !== 0 ? 'client' : 'server',
      from: STATE_BY_CODE[(code >>> 2) & 15] as TcpState,
      to: STATE_BY_CODE[(code >>> 6) & 15] as TcpState,
      inferred,
    });
  }
  return { transitions, anyInferred };
}

/**
 * Whether a flow is routine enough that its segment samples say nothing a reader needs: the
 * handshake completed, it closed with FINs or was still open at the end, and nothing went wrong
 * (no retransmission of any kind, no RST, no zero window, no keep-alive, no duplicate ACK, no
 * inferred or capped transition, no weird). Such flows are most of a busy capture, and their
 * samples were most of the memory of the emitted records.
 */
function isRoutine(f: FlowState, reason: FlowRecord['closeReason'], handshake: HandshakeOutcome, anyInferred: boolean): boolean {
  const n = f.counts;
  return (
    handshake === 'complete' &&
    (reason === 'closed' || reason === 'end_of_capture') &&
    n.rstClient === 0 &&
    n.rstServer === 0 &&
    n.synRetransmissions === 0 &&
    n.synAckRetransmissions === 0 &&
    n.finRetransmissions === 0 &&
    n.dataRetransmissionsClient === 0 &&
    n.dataRetransmissionsServer === 0 &&
    n.zeroWindows === 0 &&
    n.keepaliveProbes === 0 &&
    n.duplicateAcks === 0 &&
    !anyInferred &&
    f.transitionsOmitted === 0 &&
    f.weirdCount === 0
  );
}

/**
 * Builds the JSON record of a flow.
 *
 * @param reason - why the flow leaves the table.
 * @param endT - packet time (epoch seconds) up to which `secondsInFinalState` is measured: the
 *   capture's last packet time at end of capture, else the packet time at which the flow left.
 * @param ctx - the tracker's formatter and intern maps. Flows with an id up to
 *   `ctx.keepRoutineSamplesOfFirstFlows` keep their segment samples even when routine (see
 *   `isRoutine`), so a report always has examples; later routine flows get `segments: []` with
 *   every segment counted in `segmentsOmitted`.
 */
export function buildFlowRecord(
  f: FlowState,
  reason: FlowRecord['closeReason'],
  endT: number,
  ctx: RecordContext,
): FlowRecord {
  const iso = ctx.iso;
  const c = f.client;
  const s = f.server;
  const { transitions, anyInferred } = buildTransitions(f, iso);
  const handshake = handshakeOutcome(f);
  let segments: SegmentSample[];
  let omitted: number;
  if (f.id > ctx.keepRoutineSamplesOfFirstFlows && isRoutine(f, reason, handshake, anyInferred)) {
    segments = [];
    omitted = c.packets + s.packets;
  } else {
    const maxTail = f.tail === null ? 0 : f.tail.length / SAMPLE_FIELDS;
    ({ segments, omitted } = buildSamples(f, maxTail));
  }
  const endSeconds = f.lastSec + f.lastNanos * 1e-9;
  const rttMeasurable = f.lastSynT >= 0 && f.firstSynAckT >= 0 && f.handshakeAckT >= 0;
  const record: FlowRecord = {
    id: f.id,
    client: { ip: ctx.address(f.c0, f.c1, f.c2, f.c3), port: f.cPort },
    server: { ip: ctx.address(f.s0, f.s1, f.s2, f.s3), port: f.sPort },
    vlan: f.vlan,
    rolesInferred: f.rolesInferred,
    roleReason: f.roleReason,
    incarnation: f.incarnation,
    firstFrame: f.firstFrame,
    lastFrame: f.lastFrame,
    start: iso.format(f.firstSec, f.firstNanos),
    end: iso.format(f.lastSec, f.lastNanos),
    startSeconds: f.firstT,
    endSeconds,
    durationSeconds: roundSeconds(f.lastSec - f.firstSec + (f.lastNanos - f.firstNanos) * 1e-9),
    packets: { client: c.packets, server: s.packets },
    bytes: { client: c.bytes, server: s.bytes },
    handshake,
    finalState: ctx.states(c.state, s.state),
    secondsInFinalState: {
      client: roundSeconds(Math.max(0, endT - c.stateSinceT)),
      server: roundSeconds(Math.max(0, endT - s.stateSinceT)),
    },
    finalStateSinceSeconds: { client: c.stateSinceT, server: s.stateSinceT },
    transitions,
    transitionsOmitted: f.transitionsOmitted,
    counts: { ...f.counts },
    connState: f.zeek.connState(),
    history: f.zeek.firstHistory(),
    closeReason: reason,
    ttl: ctx.ttl(c.ttl, s.ttl),
    unackedBytesAtEnd: { client: unackedBytes(c, s), server: unackedBytes(s, c) },
    segments,
    segmentsOmitted: omitted,
    ...(rttMeasurable
      ? {
          rttMs: {
            serverSide: roundMs(f.firstSynAckT - f.lastSynT),
            clientSide: roundMs(f.handshakeAckT - f.lastSynAckT),
            total: roundMs(f.firstSynAckT - f.lastSynT + (f.handshakeAckT - f.lastSynAckT)),
          },
        }
      : {}),
    ...(f.previous !== undefined ? { previous: f.previous } : {}),
    ...zeekContinuations(f),
  };
  return record;
}
