/**
 * The live, mutable per-flow struct: numbers and a few bounded arrays, never packet bytes.
 * Owned by {@link FlowTracker}; turned into a {@link FlowRecord} once, when the flow leaves.
 *
 * Plain classes with every field initialised in the constructor keep one V8 hidden class per
 * kind of object, which is what makes the per-packet field updates cheap.
 *
 * @module
 */

import type { FlowTableEntry } from '../flow/flow-table.ts';
import type { Float64Slabs } from './float-slabs.ts';
import { ZeekEndpoint, ZeekSession } from './history.ts';
import type { FlowCounts, FlowRecord, TcpState } from './types.ts';

/**
 * One direction of a flow: what one endpoint sent and where its state machine is. It carries the
 * Zeek view of the same endpoint too (the `z` fields of ZeekEndpoint, driven by the flow's
 * ZeekSession), so a segment reads one object per side instead of two.
 */
export class EndpointTrack extends ZeekEndpoint {
  state: TcpState = 'CLOSED';
  /** Packet time (epoch seconds) at which `state` was entered. */
  stateSinceT = 0;
  /** This endpoint has sent at least one segment of the flow. */
  sent = false;
  packets = 0;
  /** IP-level bytes (IP header estimate + TCP header + payload). */
  bytes = 0;
  ttl = -1;
  /** Window scale offered on this side's SYN / SYN-ACK, -1 when none. */
  windowScale = -1;

  /** A SYN (or SYN-ACK) from this side was seen; `isn` holds its sequence number. */
  synSent = false;
  isn = 0;
  /** `base` and `sndNxt` are valid (some segment seen). */
  seqKnown = false;
  /** Base for relative sequence numbers: the ISN, or the first sequence number seen. */
  base = 0;
  /** One past the highest sequence number sent (SYN and FIN count, as in RFC 9293 SND.NXT). */
  sndNxt = 0;
  /** Highest acknowledgment the PEER sent for this side's data. */
  ackRcvdKnown = false;
  highestAckRcvd = 0;

  /** Last ACK number and raw window this side sent (`ackValid` once it sent an ACK). */
  ackValid = false;
  lastAck = 0;
  lastWindow = 0;

  finSent = false;
  /** Sequence number of the FIN octet. */
  finSeq = 0;
  /** The FIN was deduced from the peer's ACK, not seen. */
  finInferred = false;
  finObserved = false;
  ownSynAcked = false;
  ownFinAcked = false;
  /**
   * The peer acknowledged our FIN while its own FIN (sent earlier) was still unacknowledged by us:
   * crossing FINs. The FIN_WAIT_1 → FIN_WAIT_2 step is held back, because with in-order delivery
   * this side received the peer's FIN first (FIN_WAIT_1 → CLOSING); it is applied (CLOSING →
   * TIME_WAIT) once our ACK of the peer's FIN shows that reception.
   */
  ownFinAckPending = false;
  ackedPeerSyn = false;
  ackedPeerFin = false;
  rstSent = false;

  dataBytes = 0;
  dataRetransmissions = 0;

  /** Back to the state of a new instance (for reuse from the tracker's pool). */
  reset(): void {
    this.resetZeek();
    this.state = 'CLOSED';
    this.stateSinceT = 0;
    this.sent = false;
    this.packets = 0;
    this.bytes = 0;
    this.ttl = -1;
    this.windowScale = -1;
    this.synSent = false;
    this.isn = 0;
    this.seqKnown = false;
    this.base = 0;
    this.sndNxt = 0;
    this.ackRcvdKnown = false;
    this.highestAckRcvd = 0;
    this.ackValid = false;
    this.lastAck = 0;
    this.lastWindow = 0;
    this.finSent = false;
    this.finSeq = 0;
    this.finInferred = false;
    this.finObserved = false;
    this.ownSynAcked = false;
    this.ownFinAcked = false;
    this.ownFinAckPending = false;
    this.ackedPeerSyn = false;
    this.ackedPeerFin = false;
    this.rstSent = false;
    this.dataBytes = 0;
    this.dataRetransmissions = 0;
  }
}

/**
 * Numbers per stored transition in {@link FlowState.transitions}: frame, tsSec, tsNanos, code.
 * `code` packs the side (bit 0: client), inferred (bit 1), the from state (bits 2-5) and the to
 * state (bits 6-9) as indexes into {@link STATE_BY_CODE}. Packed numbers rather than one object
 * per transition: a live flow holds no strings and no small objects, and the ISO text is built
 * once at emission (saves ~100 bytes and one string per transition while the flow is live).
 */
export const TRANSITION_FIELDS = 4;

/** TcpState by its 4-bit code in a packed transition. */
export const STATE_BY_CODE: readonly TcpState[] = [
  'CLOSED',
  'LISTEN',
  'SYN_SENT',
  'SYN_RECEIVED',
  'ESTABLISHED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
  'UNKNOWN',
];

/** The 4-bit code of a state (see {@link STATE_BY_CODE}); a switch, not a map lookup: it runs per transition. */
export function stateCode(state: TcpState): number {
  switch (state) {
    case 'CLOSED':
      return 0;
    case 'LISTEN':
      return 1;
    case 'SYN_SENT':
      return 2;
    case 'SYN_RECEIVED':
      return 3;
    case 'ESTABLISHED':
      return 4;
    case 'FIN_WAIT_1':
      return 5;
    case 'FIN_WAIT_2':
      return 6;
    case 'CLOSE_WAIT':
      return 7;
    case 'CLOSING':
      return 8;
    case 'LAST_ACK':
      return 9;
    case 'TIME_WAIT':
      return 10;
    case 'UNKNOWN':
      return 11;
    default:
      return 0;
  }
}

/** The packed `code` field of a transition (see {@link TRANSITION_FIELDS}). */
export function transitionCode(isClient: boolean, inferred: boolean, from: TcpState, to: TcpState): number {
  return (isClient ? 1 : 0) | (inferred ? 2 : 0) | (stateCode(from) << 2) | (stateCode(to) << 6);
}

/**
 * Numbers per stored segment sample (see {@link FlowState.samples}), packed so that each stays an
 * exact integer below 2^53: [0] frame, [1] tsSec, [2] tsNanos + 1e9 × (flags + 512 × (retx + 8 ×
 * fromClient)), [3] seq, [4] ack (-1: no ACK), [5] payload length + 2^32 × window (flags take 9
 * bits, retx 3, the payload length is below 2^32, the raw window 16 bits). Six numbers where ten
 * were: a long-lived connection keeps maxHeadSamples + maxTailSamples (64) of them while live, so
 * a capture of many concurrent connections spent most of its memory here. See packSampleWord and
 * unpackSample.
 */
export const SAMPLE_FIELDS = 6;
/** See {@link SAMPLE_FIELDS}: the third number of a sample. */
export function packSampleWord(tsNanos: number, flags: number, retx: number, fromClient: boolean): number {
  return tsNanos + 1e9 * (flags + 512 * (retx + (fromClient ? 8 : 0)));
}
/** See {@link SAMPLE_FIELDS}: the sixth number of a sample. */
export function packSampleLength(len: number, window: number): number {
  return len + 4294967296 * window;
}
/** A stored sample's fields (see {@link SAMPLE_FIELDS}), filled in place by {@link unpackSample}. */
export interface UnpackedSample {
  frame: number;
  tsSec: number;
  tsNanos: number;
  fromClient: boolean;
  flags: number;
  retx: number;
  seq: number;
  /** -1: no ACK. */
  ack: number;
  len: number;
  window: number;
}
/** Unpacks the sample at `at` of `arr` into `out`. */
export function unpackSample(arr: Float64Array, at: number, out: UnpackedSample): void {
  out.frame = arr[at]!;
  out.tsSec = arr[at + 1]!;
  const word = arr[at + 2]!;
  // Exact: both are integers below 2^53, and the quotient is at least 1e-9 away from the next
  // integer, far more than the division's rounding error (below 2^-40 here).
  const high = Math.floor(word / 1e9);
  out.tsNanos = word - high * 1e9;
  out.flags = high & 511;
  out.retx = (high >>> 9) & 7;
  out.fromClient = (high >>> 12) !== 0;
  out.seq = arr[at + 3]!;
  out.ack = arr[at + 4]!;
  const lengths = arr[at + 5]!;
  const window = Math.floor(lengths / 4294967296);
  out.window = window;
  out.len = lengths - window * 4294967296;
}
/**
 * Capacity (entries) of a new FlowState's transition and sample arrays. Small, because a flood of
 * SYNs from distinct tuples fills the live table (maxLiveFlows) with flows of one packet each: 4
 * and 2 entries keep a live flow near 1 KB instead of 3. Transitions double as needed; samples
 * triple up to maxHeadSamples (see FlowTracker.sample).
 */
const INITIAL_TRANSITIONS = 4;
const INITIAL_SAMPLES = 2;
/** A pooled FlowState keeps arrays up to this many entries; larger ones are dropped on reset. */
const RETAINED_TRANSITIONS = 24;
const RETAINED_SAMPLES = 48;

function newArray(length: number, slabs: Float64Slabs | undefined): Float64Array {
  return slabs !== undefined ? slabs.take(length) : new Float64Array(length);
}

/** Sample retransmission kinds (index into SAMPLE_RETRANSMISSION_NAMES). */
export const RETX_NONE = 0;
export const RETX_SYN = 1;
export const RETX_SYNACK = 2;
export const RETX_FIN = 3;
export const RETX_DATA = 4;
export const RETX_KEEPALIVE = 5;

/** A live flow's counters (see FlowState.counts): FlowCounts without the per-side data counters. */
export type LiveCounts = Omit<FlowCounts, 'dataBytesClient' | 'dataBytesServer' | 'dataRetransmissionsClient' | 'dataRetransmissionsServer'>;

/** The live state of one flow (one incarnation of a 4-tuple). */
export class FlowState implements FlowTableEntry<FlowState> {
  // Key (client first) --------------------------------------------------------------------------
  c0 = 0;
  c1 = 0;
  c2 = 0;
  c3 = 0;
  cPort = 0;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  sPort = 0;
  vlan = -1;
  hash = 0;
  chainNext: FlowState | null = null;
  ipVersion = 4;

  // LRU list links (active list or lingering-closed list) -------------------------------------------
  lruPrev: FlowState | null = null;
  lruNext: FlowState | null = null;
  /** True once the flow closed (FIN exchange or RST): it sits in the linger list. */
  closed = false;
  closeReason: FlowRecord['closeReason'] = 'end_of_capture';
  /** Closed with both sides in a final state: it lingers `finalLingerSeconds`, not `lingerSeconds`. */
  lingerFinal = false;

  // Identity --------------------------------------------------------------------------------------
  /** 1-based flow id; 0 while the tracker holds it as a flood flow (see FlowTracker's isFloodFlow). */
  id = 0;
  incarnation = 1;
  rolesInferred = false;
  roleReason: FlowRecord['roleReason'] = 'syn';
  previous: FlowRecord['previous'] | undefined = undefined;

  // Time (packet time) -------------------------------------------------------------------------
  firstFrame = 0;
  lastFrame = 0;
  firstSec = 0;
  firstNanos = 0;
  firstT = 0;
  lastSec = 0;
  lastNanos = 0;
  lastT = 0;

  readonly client = new EndpointTrack();
  readonly server = new EndpointTrack();
  /**
   * The flow's counters, but for the data bytes and data retransmissions of each side, which live
   * in `client` / `server` (`dataBytes`, `dataRetransmissions`) and are read from there when the
   * flow is written: copying them here on every segment touched one more object per packet.
   */
  readonly counts: LiveCounts = {
    syn: 0,
    synAck: 0,
    finClient: 0,
    finServer: 0,
    rstClient: 0,
    rstServer: 0,
    synRetransmissions: 0,
    synAckRetransmissions: 0,
    finRetransmissions: 0,
    keepaliveProbes: 0,
    duplicateAcks: 0,
    zeroWindows: 0,
  };
  readonly zeek = new ZeekSession(this.client, this.server);

  // Handshake timing (epoch seconds, -1 = not seen) ----------------------------------------------
  lastSynT = -1;
  firstSynAckT = -1;
  lastSynAckT = -1;
  handshakeAckT = -1;
  /** The handshake was completed by deduction (final ACK missing, server traffic followed). */
  handshakeInferred = false;
  /**
   * The server's SYN_RECEIVED → ESTABLISHED on the client's ACK is provisional until the server
   * shows it accepted that ACK (see FlowTracker's retraction rule). `provisionalIndex` is the
   * transition's offset in the packed `transitions` (-1 when it was not stored because of the cap) and
   * `provisionalSinceT` the server's `stateSinceT` before it, restored on retraction.
   */
  serverEstablishedProvisional = false;
  provisionalIndex = -1;
  provisionalSinceT = 0;
  /** The provisional ESTABLISHED was retracted: the server stays SYN_RECEIVED until it shows otherwise. */
  serverEstablishedRetracted = false;

  // Bounded detail ---------------------------------------------------------------------------------
  /**
   * Stored transitions, TRANSITION_FIELDS numbers each (see there), in `transitions[0 ..
   * transitionsLength)`; capped by the tracker. Typed arrays with a length, not `number[]`, so a
   * pooled FlowState keeps its capacity: growing arrays of young objects owned by long-lived flows
   * were most of the old-generation garbage.
   */
  transitions: Float64Array;
  transitionsLength = 0;
  transitionsOmitted = 0;
  /** Weirds counted on this flow (any name); a flow with one keeps its segment samples. */
  weirdCount = 0;
  /**
   * A side sent new payload after the other side's FIN (seen on the wire) and before its own FIN:
   * a half-close, which keeps the flow's segment samples (the half-close detector reads them).
   */
  dataAfterPeerFin = false;
  /** First samples, SAMPLE_FIELDS numbers each (packed, see there). */
  samples: Float64Array;
  /** Numbers used in `samples` (SAMPLE_FIELDS per sample). */
  samplesLength = 0;
  /** Ring of the last samples (allocated once the head is full), `tailCount` written so far. */
  tail: Float64Array | null = null;
  tailCount = 0;

  /**
   * @param slabs - where the packed arrays come from and go back to (the tracker's); without it
   *   they are allocated on their own.
   */
  constructor(slabs?: Float64Slabs) {
    this.transitions = newArray(INITIAL_TRANSITIONS * TRANSITION_FIELDS, slabs);
    this.samples = newArray(INITIAL_SAMPLES * SAMPLE_FIELDS, slabs);
  }

  /**
   * Back to the state of a new instance, for reuse from the tracker's pool. Every field declared
   * above must be reset here (the flow-state test compares a reset instance with a new one).
   * Arrays grown past what a pooled state keeps go back to `slabs` when given.
   */
  reset(slabs?: Float64Slabs): void {
    this.c0 = 0; this.c1 = 0; this.c2 = 0; this.c3 = 0; this.cPort = 0;
    this.s0 = 0; this.s1 = 0; this.s2 = 0; this.s3 = 0; this.sPort = 0;
    this.vlan = -1;
    this.hash = 0;
    this.chainNext = null;
    this.ipVersion = 4;
    this.lruPrev = null;
    this.lruNext = null;
    this.closed = false;
    this.closeReason = 'end_of_capture';
    this.lingerFinal = false;
    this.id = 0;
    this.incarnation = 1;
    this.rolesInferred = false;
    this.roleReason = 'syn';
    this.previous = undefined;
    this.firstFrame = 0;
    this.lastFrame = 0;
    this.firstSec = 0;
    this.firstNanos = 0;
    this.firstT = 0;
    this.lastSec = 0;
    this.lastNanos = 0;
    this.lastT = 0;
    this.client.reset();
    this.server.reset();
    const n = this.counts;
    n.syn = 0;
    n.synAck = 0;
    n.finClient = 0;
    n.finServer = 0;
    n.rstClient = 0;
    n.rstServer = 0;
    n.synRetransmissions = 0;
    n.synAckRetransmissions = 0;
    n.finRetransmissions = 0;
    n.keepaliveProbes = 0;
    n.duplicateAcks = 0;
    n.zeroWindows = 0;
    this.zeek.reset();
    this.lastSynT = -1;
    this.firstSynAckT = -1;
    this.lastSynAckT = -1;
    this.handshakeAckT = -1;
    this.handshakeInferred = false;
    this.serverEstablishedProvisional = false;
    this.provisionalIndex = -1;
    this.provisionalSinceT = 0;
    this.serverEstablishedRetracted = false;
    this.transitionsLength = 0;
    if (this.transitions.length > RETAINED_TRANSITIONS * TRANSITION_FIELDS) {
      slabs?.give(this.transitions);
      this.transitions = newArray(INITIAL_TRANSITIONS * TRANSITION_FIELDS, slabs);
    }
    this.transitionsOmitted = 0;
    this.weirdCount = 0;
    this.dataAfterPeerFin = false;
    this.samplesLength = 0;
    if (this.samples.length > RETAINED_SAMPLES * SAMPLE_FIELDS) {
      slabs?.give(this.samples);
      this.samples = newArray(INITIAL_SAMPLES * SAMPLE_FIELDS, slabs);
    }
    if (this.tail !== null) slabs?.give(this.tail);
    this.tail = null;
    this.tailCount = 0;
  }
}
