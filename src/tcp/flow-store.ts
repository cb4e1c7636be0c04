/**
 * The compact flow store: the {@link FlowList} the analysis hands to diagnosis and report.
 *
 * Why: a materialised {@link FlowRecord} costs ~3 KB of heap (nested objects, ISO strings, one
 * object per transition and segment sample), so a capture of 500 000 connections held as records
 * needs ~2 GB and most of the analysis time goes to garbage collection. The store keeps each flow
 * as one varint-encoded byte record (~130 bytes for a routine connection) in 1 MiB pages, plus
 * 8 bytes of index per flow, and builds the FlowRecord again each time one is asked for
 * ({@link FlowStore.at}). Encoding runs once per flow, when it leaves the tracker; there is no
 * per-flow object on the store's side.
 *
 * The encoded form holds exactly what the record needs, already derived (handshake outcome, Zeek
 * verdict, unacknowledged bytes, RTT split, whether the flow is routine enough to drop its segment
 * samples), so {@link buildFlowRecord} is "encode into a scratch store, decode": one code path for
 * the tracker's callback API and the store.
 *
 * Exactness: integers are stored as varints up to 2^53; packet times given as floats (state entry
 * times, the end time) as the (seconds, nanoseconds) that give back exactly that float, RTTs as
 * whole microseconds when that is exact, and otherwise (and for the seconds since a previous
 * incarnation) as raw float64; and
 * every float a record shows is computed by the same expressions as before from the same inputs,
 * so records are bit-for-bit those the tracker used to build.
 *
 * @module
 */

import { formatAddress } from '../decode/address-text.ts';
import { flagsToText } from '../decode/flags-text.ts';
import { relativeSeq, seqDiff, seqLt } from '../flow/seq.ts';
import { SAMPLE_FIELDS, STATE_BY_CODE, stateCode, TRANSITION_FIELDS } from './flow-state.ts';
import type { EndpointTrack, FlowState } from './flow-state.ts';
import { IsoFormatter } from './iso-time.ts';
import type {
  ConnState,
  FlowList,
  FlowRecord,
  HandshakeOutcome,
  SegmentSample,
  TcpState,
  Transition,
} from './types.ts';

// ---------------------------------------------------------------------------------------------
// Code tables: the position in each list is the stored code. Append only (codes are internal,
// never written out, but keeping them stable costs nothing).

const ROLE_REASONS: readonly FlowRecord['roleReason'][] = ['syn', 'synack', 'port', 'first_packet'];
const HANDSHAKES: readonly HandshakeOutcome[] = ['complete', 'no_synack', 'refused', 'half_open', 'reset_after_ack', 'not_seen'];
const CLOSE_REASONS: readonly FlowRecord['closeReason'][] = ['closed', 'reset', 'idle_timeout', 'end_of_capture', 'superseded'];
const CONN_STATES: readonly ConnState[] = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'];
/** Sample retransmission names by RETX_* code (see flow-state.ts). */
const RETX_NAMES: readonly (SegmentSample['retransmission'] | undefined)[] = [undefined, 'syn', 'synack', 'fin', 'data', 'keepalive'];

const codeOf = <T>(list: readonly T[]): Map<T, number> => new Map(list.map((v, i) => [v, i]));
const ROLE_CODE = codeOf(ROLE_REASONS);
const HANDSHAKE_CODE = codeOf(HANDSHAKES);
const CLOSE_CODE = codeOf(CLOSE_REASONS);
const CONN_CODE = codeOf(CONN_STATES);

// Bits of the flags word.
const F_HAS_RTT = 1;
const F_HAS_PREVIOUS = 2;
const F_PREVIOUS_SAME_CLIENT = 4;
const F_HAS_CONTINUATIONS = 8;
const F_ROLES_INFERRED = 16;
/** The flow is routine (see isRoutine): its samples are dropped when its id is past the keep limit. */
const F_ROUTINE = 32;
/** Both addresses are IPv4 (stored IPv4-mapped): only the last word of each is encoded. */
const F_IPV4 = 64;

/** Bytes per page of encoded records. A record larger than a page gets a page of its own. */
const PAGE_BYTES = 1 << 20;
/** Flows per page of the slot index. */
const SLOT_PAGE_BITS = 16;
const SLOT_PAGE = 1 << SLOT_PAGE_BITS;
const EMPTY_SLOT = 0xffffffff;

/** Slots of the address text cache (a power of two). */
const ADDRESS_SLOTS = 1 << 16;

// ---------------------------------------------------------------------------------------------
// Derivations (once per flow, at encoding time).

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

/**
 * Whether a flow is routine enough that its segment samples say nothing a reader needs: the
 * handshake completed, it closed with FINs or was still open at the end, and nothing went wrong
 * (no retransmission of any kind, no RST, no zero window, no keep-alive, no duplicate ACK, no
 * inferred or capped transition, no weird). Such flows are most of a busy capture.
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

// ---------------------------------------------------------------------------------------------
// Byte writer / reader over one scratch buffer (encoding) and the pages (decoding).

class Writer {
  buf = new Uint8Array(4096);
  pos = 0;
  private readonly f64 = new Float64Array(1);
  private readonly f64Bytes = new Uint8Array(this.f64.buffer);

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Unsigned integer 0 .. 2^53-1, LEB128. */
  uint(v: number): void {
    this.ensure(8);
    const b = this.buf;
    let p = this.pos;
    if (v < 0x80000000) {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
    } else {
      while (v >= 0x80) {
        b[p++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      b[p++] = v;
    }
    this.pos = p;
  }

  /** Signed safe integer, zigzag. */
  int(v: number): void {
    this.uint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /**
   * A packet time (sec, nanos) relative to the flow's first packet time: nanoseconds as one
   * varint, divided by 1000 when whole microseconds (every classic pcap): 1-4 bytes where
   * seconds and nanoseconds took 6. Tag in the low two bits: 0 µs, 1 ns, 2 raw (seconds delta
   * and nanoseconds, when more than 2^20 s apart, so every value stays below 2^53).
   */
  time(sec: number, nanos: number, firstSec: number, firstNanos: number): void {
    const ds = sec - firstSec;
    if (ds > -1048576 && ds < 1048576) {
      const dns = ds * 1e9 + (nanos - firstNanos);
      if (dns % 1000 === 0) {
        const us = dns / 1000;
        this.uint((us >= 0 ? us * 2 : -us * 2 - 1) * 4);
      } else {
        this.uint((dns >= 0 ? dns * 2 : -dns * 2 - 1) * 4 + 1);
      }
      return;
    }
    this.uint(2);
    this.int(ds);
    this.uint(nanos);
  }

  /**
   * A packet time given as epoch seconds `t` (computed as `sec + nanos * 1e-9` from some packet):
   * finds a (sec, nanos) that gives back exactly this float and writes it with {@link time};
   * tag 3 and the raw float when there is none (a time not made that way).
   */
  packetTime(t: number, firstSec: number, firstNanos: number): void {
    if (Number.isFinite(t)) {
      const sec = Math.floor(t);
      const frac = t - sec;
      const us = Math.round(frac * 1e6) * 1000;
      const ns = Math.round(frac * 1e9);
      for (const nanos of [us, ns, ns - 1, ns + 1]) {
        if (nanos >= 0 && nanos < 1e9 && sec + nanos * 1e-9 === t) {
          this.time(sec, nanos, firstSec, firstNanos);
          return;
        }
      }
    }
    this.uint(3);
    this.float(t);
  }

  /** Milliseconds with at most 3 decimals (see roundMs) as an integer of microseconds; raw float otherwise. */
  millis(ms: number): void {
    const us = Math.round(ms * 1e3);
    if (Number.isSafeInteger(us) && Math.abs(us) < 2 ** 51 && us / 1e3 === ms && !Object.is(ms, -0)) {
      this.int(us * 2); // even: exact microseconds
      return;
    }
    this.int(1); // odd: the raw float follows
    this.float(ms);
  }

  float(v: number): void {
    this.ensure(8);
    this.f64[0] = v;
    this.buf.set(this.f64Bytes, this.pos);
    this.pos += 8;
  }
}

class Reader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  private readonly f64 = new Float64Array(1);
  private readonly f64Bytes = new Uint8Array(this.f64.buffer);

  uint(): number {
    const b = this.buf;
    let p = this.pos;
    let byte = b[p++]!;
    if (byte < 0x80) {
      this.pos = p;
      return byte;
    }
    let v = byte & 0x7f;
    let shift = 7;
    while (shift < 28) {
      byte = b[p++]!;
      v |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
      shift += 7;
    }
    // Past 28 bits: continue with float arithmetic (values up to 2^53).
    let big = v >>> 0;
    let mul = 2 ** 28;
    for (;;) {
      byte = b[p++]!;
      big += (byte & 0x7f) * mul;
      if (byte < 0x80) break;
      mul *= 128;
    }
    this.pos = p;
    return big;
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** Reads what Writer.packetTime wrote: the float it was given. */
  packetTime(firstSec: number, firstNanos: number): number {
    const save = this.pos;
    const v = this.uint();
    if (v === 3) return this.float();
    this.pos = save;
    this.time(firstSec, firstNanos);
    return this.sec + this.nanos * 1e-9;
  }

  /** Reads what Writer.millis wrote. */
  millis(): number {
    const v = this.int();
    if (v === 1) return this.float();
    return v / 2 / 1e3;
  }

  /** Reads what Writer.time wrote; sets `sec` and `nanos`. */
  time(firstSec: number, firstNanos: number): void {
    const v = this.uint();
    const tag = v % 4;
    if (tag === 2) {
      this.sec = firstSec + this.int();
      this.nanos = this.uint();
      return;
    }
    const z = (v - tag) / 4;
    const x = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    const total = firstNanos + (tag === 0 ? x * 1000 : x);
    const secOffset = Math.floor(total / 1e9);
    this.sec = firstSec + secOffset;
    this.nanos = total - secOffset * 1e9;
  }

  /** Result of {@link time}. */
  sec = 0;
  nanos = 0;

  float(): number {
    const p = this.pos;
    for (let i = 0; i < 8; i++) this.f64Bytes[i] = this.buf[p + i]!;
    this.pos = p + 8;
    return this.f64[0]!;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Shared values for the records one store builds: interned address text and small frozen objects,
 * so records built close together share them. Shared objects are frozen; records are read-only.
 */
class Interner {
  /**
   * Address text, direct-mapped by a hash of the four words (slot keys in a typed array, so no
   * lookup hashes a heap number or builds a string to find a hit). A capture has a few thousand
   * hosts, so nearly every lookup hits; a collision only costs one formatting.
   */
  private readonly keys = new Uint32Array(ADDRESS_SLOTS * 4);
  private readonly texts = new Array<string | undefined>(ADDRESS_SLOTS).fill(undefined);
  private readonly statePairs = new Map<number, FlowRecord['finalState']>();
  private readonly ttlPairs = new Map<number, FlowRecord['ttl']>();

  /** Address text of four words (IPv4 is stored IPv4-mapped), interned. */
  address(w0: number, w1: number, w2: number, w3: number): string {
    const slot = (Math.imul(w3 ^ Math.imul(w2 ^ Math.imul(w1 ^ Math.imul(w0, 0x85ebca6b), 0xc2b2ae35), 0x27d4eb2f), 0x9e3779b1) >>> 16) & (ADDRESS_SLOTS - 1);
    const k = slot * 4;
    const keys = this.keys;
    const cached = this.texts[slot];
    if (cached !== undefined && keys[k + 3] === w3 && keys[k + 2] === w2 && keys[k + 1] === w1 && keys[k] === w0) return cached;
    const text = formatAddress(w0, w1, w2, w3);
    keys[k] = w0;
    keys[k + 1] = w1;
    keys[k + 2] = w2;
    keys[k + 3] = w3;
    this.texts[slot] = text;
    return text;
  }

  /** A shared frozen `{client, server}` pair of states, by their 4-bit codes. */
  states(clientCode: number, serverCode: number): FlowRecord['finalState'] {
    const key = clientCode * 16 + serverCode;
    let pair = this.statePairs.get(key);
    if (pair === undefined) {
      pair = Object.freeze({ client: STATE_BY_CODE[clientCode] as TcpState, server: STATE_BY_CODE[serverCode] as TcpState });
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

/** A store's buffers and tables, as {@link FlowStore.exportParts} hands them out (structured-clonable). */
export interface FlowStoreParts {
  readonly pages: Uint8Array[];
  readonly slotPage: Uint32Array[];
  readonly slotOffset: Uint32Array[];
  readonly slotFirstFrame: Float64Array[];
  readonly slots: number;
  readonly filled: number;
  readonly strings: string[];
  readonly encodedBytes: number;
}

/** Options of a {@link FlowStore}. */
export interface FlowStoreOptions {
  /** Fractional digits of ISO timestamps: 6 for a µs capture, 9 for ns. */
  readonly tsPrecisionDigits: number;
  /**
   * Flows with an id up to this keep their segment samples even when routine (see `isRoutine`),
   * so a report always has examples; later routine flows get `segments: []` with every segment
   * counted in `segmentsOmitted`. See FlowTrackerOptions.keepRoutineSamplesOfFirstFlows.
   */
  readonly keepRoutineSamplesOfFirstFlows: number;
}

/**
 * Flows in compact encoded form, by 0-based slot (the analysis uses slot = id - 1, so slot order is
 * id order). {@link put} encodes a live flow as it leaves the tracker; {@link at} and iteration
 * build its FlowRecord. Implements {@link FlowList}: records are fresh objects on every access.
 */
export class FlowStore implements FlowList {
  private readonly pages: Uint8Array[] = [];
  private pageUsed = PAGE_BYTES;
  /** Per slot: page index and byte offset of its record (EMPTY_SLOT when not filled). */
  private readonly slotPage: Uint32Array[] = [];
  private readonly slotOffset: Uint32Array[] = [];
  /** Per slot: the flow's first frame number (orders the flows of several shards). */
  private readonly slotFirstFrame: Float64Array[] = [];
  private slots = 0;
  private filled = 0;
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  private readonly writer = new Writer();
  private readonly reader = new Reader();
  private readonly iso: IsoFormatter;
  private readonly intern = new Interner();
  /** Bytes of encoded records (for benchmarks and tests of the memory bound). */
  encodedBytes = 0;

  constructor(readonly options: FlowStoreOptions) {
    this.iso = new IsoFormatter(options.tsPrecisionDigits);
  }

  /** Number of slots (highest filled slot + 1). Every slot of an analysis is filled. */
  get length(): number {
    return this.slots;
  }

  /** Slots actually filled. */
  get size(): number {
    return this.filled;
  }

  *[Symbol.iterator](): IterableIterator<FlowRecord> {
    for (let i = 0; i < this.slots; i++) {
      const r = this.at(i);
      if (r !== undefined) yield r;
    }
  }

  /** Every record, as an array (for small stores and tests; allocates them all). */
  toArray(): FlowRecord[] {
    return [...this];
  }

  /**
   * `JSON.stringify` of a store is the array of its records, so a small result serialises as
   * before. Large results go through the streaming JSON writer instead (one record at a time).
   */
  toJSON(): FlowRecord[] {
    return this.toArray();
  }

  /**
   * Encodes a flow leaving the tracker into `slot` (overwriting what was there).
   *
   * @param reason - why the flow leaves the table.
   * @param endT - packet time (epoch seconds) up to which `secondsInFinalState` is measured.
   */
  put(slot: number, f: FlowState, reason: FlowRecord['closeReason'], endT: number): void {
    const w = this.writer;
    w.reset();
    this.encode(w, f, reason, endT);
    const len = w.pos;
    if (this.pageUsed + len > PAGE_BYTES) {
      this.pages.push(new Uint8Array(Math.max(PAGE_BYTES, len)));
      this.pageUsed = 0;
    }
    const pageIndex = this.pages.length - 1;
    const page = this.pages[pageIndex]!;
    page.set(w.buf.subarray(0, len), this.pageUsed);
    const sp = slot >>> SLOT_PAGE_BITS;
    while (this.slotPage.length <= sp) {
      this.slotPage.push(new Uint32Array(SLOT_PAGE).fill(EMPTY_SLOT));
      this.slotOffset.push(new Uint32Array(SLOT_PAGE));
      this.slotFirstFrame.push(new Float64Array(SLOT_PAGE));
    }
    const so = slot & (SLOT_PAGE - 1);
    this.slotFirstFrame[sp]![so] = f.firstFrame;
    if (this.slotPage[sp]![so] === EMPTY_SLOT) this.filled++;
    this.slotPage[sp]![so] = pageIndex;
    this.slotOffset[sp]![so] = this.pageUsed;
    this.pageUsed += len;
    this.encodedBytes += len;
    if (slot >= this.slots) this.slots = slot + 1;
  }

  /** The record in `index`, built afresh; undefined when out of range or never filled. */
  at(index: number): FlowRecord | undefined {
    return this.atWithIds(index, undefined);
  }

  /** First frame number of the flow in `slot` (0 when never filled). */
  firstFrameAt(slot: number): number {
    return this.slotFirstFrame[slot >>> SLOT_PAGE_BITS]?.[slot & (SLOT_PAGE - 1)] ?? 0;
  }

  /**
   * The record in `index`, with its stored flow ids (its own and its `previous`) mapped by `idOf`:
   * how a shard's store is read back in the merged, capture-wide numbering.
   */
  atWithIds(index: number, idOf: ((storedId: number) => number) | undefined): FlowRecord | undefined {
    if (!(index >= 0 && index < this.slots)) return undefined;
    const sp = index >>> SLOT_PAGE_BITS;
    const so = index & (SLOT_PAGE - 1);
    const pageIndex = this.slotPage[sp]?.[so];
    if (pageIndex === undefined || pageIndex === EMPTY_SLOT) return undefined;
    const r = this.reader;
    r.buf = this.pages[pageIndex]!;
    r.pos = this.slotOffset[sp]![so]!;
    return this.decode(r, idOf);
  }

  /**
   * The store's buffers and tables, to move it to another thread (`transfer` lists the buffers to
   * hand over; the store must not be used afterwards).
   */
  exportParts(): { parts: FlowStoreParts; transfer: ArrayBuffer[] } {
    const parts: FlowStoreParts = {
      pages: this.pages,
      slotPage: this.slotPage,
      slotOffset: this.slotOffset,
      slotFirstFrame: this.slotFirstFrame,
      slots: this.slots,
      filled: this.filled,
      strings: this.strings,
      encodedBytes: this.encodedBytes,
    };
    const transfer: ArrayBuffer[] = [];
    for (const list of [this.pages, this.slotPage, this.slotOffset, this.slotFirstFrame]) {
      for (const a of list) transfer.push(a.buffer as ArrayBuffer);
    }
    return { parts, transfer };
  }

  /** A read-only store over parts made by {@link exportParts} (possibly in another thread). */
  static fromParts(options: FlowStoreOptions, parts: FlowStoreParts): FlowStore {
    const store = new FlowStore(options);
    store.pages.push(...parts.pages);
    store.pageUsed = PAGE_BYTES; // never appended to
    store.slotPage.push(...parts.slotPage);
    store.slotOffset.push(...parts.slotOffset);
    store.slotFirstFrame.push(...parts.slotFirstFrame);
    store.slots = parts.slots;
    store.filled = parts.filled;
    parts.strings.forEach((text, i) => {
      store.strings.push(text);
      store.stringIds.set(text, i);
    });
    store.encodedBytes = parts.encodedBytes;
    return store;
  }

  /**
   * The record of a live flow without storing it (encoded into the scratch buffer and decoded at
   * once: the same path as every stored flow). For the tracker's callback API and snapshots.
   */
  record(f: FlowState, reason: FlowRecord['closeReason'], endT: number): FlowRecord {
    const w = this.writer;
    w.reset();
    this.encode(w, f, reason, endT);
    const r = this.reader;
    r.buf = w.buf;
    r.pos = 0;
    return this.decode(r);
  }

  private stringId(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  // Layout of one record, in order (u = varint, i = zigzag varint, f = float64, t = Writer.time
  // relative to the first packet time):
  //   u id, u flags, u codes (role | handshake<<2 | close<<5 | conn<<8 | finalC<<12 | finalS<<16),
  //   u c3 s3 (IPv4) or u c0..c3 s0..s3, u cPort, u sPort, i vlan, u incarnation,
  //   u firstFrame, u lastFrame-firstFrame, u firstSec, u firstNanos, t last,
  //   u packetsC packetsS bytesC bytesS, p sinceC sinceS endT (Writer.packetTime), u transitionsOmitted,
  //   u counts×16, u history, u ttlC+1 ttlS+1, u unackedC unackedS, u segmentsOmitted,
  //   [m rtt serverSide clientSide total (Writer.millis)], [u prevId, f secondsSince, u prevFinal(c<<4|s)],
  //   u nTransitions, per: u frame-firstFrame, t time, u code,
  //   u nSegments, per: u frame-firstFrame, t time, u fromClient|retx<<1|flags<<4,
  //     u relSeq, u ack+1 (0: no ACK), u len, u window,
  //   [u nContinuations, per: u firstFrame, u connState, u history].
  private encode(w: Writer, f: FlowState, reason: FlowRecord['closeReason'], endT: number): void {
    const c = f.client;
    const s = f.server;
    const n = f.counts;
    const tr = f.transitions;
    let anyInferred = false;
    const trLength = f.transitionsLength;
    for (let at = 3; at < trLength; at += TRANSITION_FIELDS) if ((tr[at]! & 2) !== 0) anyInferred = true;
    const handshake = handshakeOutcome(f);
    const rttMeasurable = f.lastSynT >= 0 && f.firstSynAckT >= 0 && f.handshakeAckT >= 0;
    const continuations = f.zeek.continuations();
    let flags = 0;
    if (rttMeasurable) flags |= F_HAS_RTT;
    if (f.previous !== undefined) {
      flags |= F_HAS_PREVIOUS;
      if (f.previous.sameClient) flags |= F_PREVIOUS_SAME_CLIENT;
    }
    if (continuations.length > 0) flags |= F_HAS_CONTINUATIONS;
    if (f.rolesInferred) flags |= F_ROLES_INFERRED;
    if (f.c0 === 0 && f.c1 === 0 && f.c2 === 0xffff && f.s0 === 0 && f.s1 === 0 && f.s2 === 0xffff) flags |= F_IPV4;
    const routine = isRoutine(f, reason, handshake, anyInferred);
    if (routine) flags |= F_ROUTINE;
    w.uint(f.id);
    w.uint(flags);
    w.uint(
      (ROLE_CODE.get(f.roleReason) ?? 0) |
        ((HANDSHAKE_CODE.get(handshake) ?? 0) << 2) |
        ((CLOSE_CODE.get(reason) ?? 0) << 5) |
        ((CONN_CODE.get(f.zeek.connState()) ?? 0) << 8) |
        (stateCode(c.state) << 12) |
        (stateCode(s.state) << 16),
    );
    if ((flags & F_IPV4) !== 0) {
      w.uint(f.c3);
      w.uint(f.s3);
    } else {
      w.uint(f.c0); w.uint(f.c1); w.uint(f.c2); w.uint(f.c3);
      w.uint(f.s0); w.uint(f.s1); w.uint(f.s2); w.uint(f.s3);
    }
    w.uint(f.cPort);
    w.uint(f.sPort);
    w.int(f.vlan);
    w.uint(f.incarnation);
    w.uint(f.firstFrame);
    w.uint(f.lastFrame - f.firstFrame);
    w.uint(f.firstSec);
    w.uint(f.firstNanos);
    w.time(f.lastSec, f.lastNanos, f.firstSec, f.firstNanos);
    w.uint(c.packets); w.uint(s.packets); w.uint(c.bytes); w.uint(s.bytes);
    w.packetTime(c.stateSinceT, f.firstSec, f.firstNanos);
    w.packetTime(s.stateSinceT, f.firstSec, f.firstNanos);
    w.packetTime(endT, f.firstSec, f.firstNanos);
    w.uint(f.transitionsOmitted);
    w.uint(n.syn); w.uint(n.synAck); w.uint(n.finClient); w.uint(n.finServer);
    w.uint(n.rstClient); w.uint(n.rstServer); w.uint(n.synRetransmissions); w.uint(n.synAckRetransmissions);
    w.uint(n.finRetransmissions); w.uint(n.dataRetransmissionsClient); w.uint(n.dataRetransmissionsServer);
    w.uint(n.dataBytesClient); w.uint(n.dataBytesServer); w.uint(n.keepaliveProbes);
    w.uint(n.duplicateAcks); w.uint(n.zeroWindows);
    w.uint(this.stringId(f.zeek.firstHistory()));
    w.uint(c.ttl + 1); w.uint(s.ttl + 1);
    w.uint(unackedBytes(c, s)); w.uint(unackedBytes(s, c));

    // Segment samples: none for a routine flow past the first few (see isRoutine). The flag is
    // stored so the decision can be made again with another id (a shard's local id is at most the
    // global one, so a shard keeps the samples of a superset of the flows that need them).
    const dropSamples = routine && f.id > this.options.keepRoutineSamplesOfFirstFlows;
    const maxTail = f.tail === null ? 0 : f.tail.length / SAMPLE_FIELDS;
    let omitted: number;
    if (dropSamples) omitted = c.packets + s.packets;
    else if (f.tail !== null && maxTail > 0) omitted = f.tailCount - Math.min(f.tailCount, maxTail);
    else omitted = f.tailCount;
    w.uint(omitted);

    if (rttMeasurable) {
      w.millis(roundMs(f.firstSynAckT - f.lastSynT));
      w.millis(roundMs(f.handshakeAckT - f.lastSynAckT));
      w.millis(roundMs(f.firstSynAckT - f.lastSynT + (f.handshakeAckT - f.lastSynAckT)));
    }
    if (f.previous !== undefined) {
      w.uint(f.previous.flowId);
      w.float(f.previous.secondsSinceLastPacket);
      w.uint((stateCode(f.previous.finalState.client) << 4) | stateCode(f.previous.finalState.server));
    }

    w.uint(trLength / TRANSITION_FIELDS);
    for (let at = 0; at + TRANSITION_FIELDS <= trLength; at += TRANSITION_FIELDS) {
      w.uint(tr[at]! - f.firstFrame);
      w.time(tr[at + 1]!, tr[at + 2]!, f.firstSec, f.firstNanos);
      w.uint(tr[at + 3]!);
    }

    if (dropSamples) {
      w.uint(0);
    } else {
      const head = f.samplesLength / SAMPLE_FIELDS;
      const tailKept = f.tail !== null && maxTail > 0 ? Math.min(f.tailCount, maxTail) : 0;
      w.uint(head + tailKept);
      for (let at = 0; at < f.samplesLength; at += SAMPLE_FIELDS) this.encodeSample(w, f, f.samples, at);
      if (f.tail !== null && tailKept > 0) {
        for (let i = f.tailCount - tailKept; i < f.tailCount; i++) this.encodeSample(w, f, f.tail, (i % maxTail) * SAMPLE_FIELDS);
      }
    }

    if (continuations.length > 0) {
      w.uint(continuations.length);
      for (const k of continuations) {
        w.uint(k.firstFrame);
        w.uint(CONN_CODE.get(k.connState) ?? 0);
        w.uint(this.stringId(k.history));
      }
    }
  }

  /** One sample: frame, sec, nanos, fromClient, flags, seq, ack|-1, len, window, retx (see FlowState.samples). */
  private encodeSample(w: Writer, f: FlowState, arr: Float64Array, at: number): void {
    const fromClient = arr[at + 3] === 1;
    const ep = fromClient ? f.client : f.server;
    const peer = fromClient ? f.server : f.client;
    const ackNumber = arr[at + 6]!;
    w.uint(arr[at]! - f.firstFrame);
    w.time(arr[at + 1]!, arr[at + 2]!, f.firstSec, f.firstNanos);
    w.uint((fromClient ? 1 : 0) | (arr[at + 9]! << 1) | (arr[at + 4]! << 4));
    w.uint(relativeSeq(arr[at + 5]!, ep.base));
    w.uint(ackNumber < 0 ? 0 : (peer.seqKnown ? relativeSeq(ackNumber, peer.base) : ackNumber) + 1);
    w.uint(arr[at + 7]!);
    w.uint(arr[at + 8]!);
  }

  /**
   * Builds the record at the reader's position. `idOf`, when given, maps the stored (shard-local)
   * flow ids of this record and of its `previous` to the ids the record shows.
   */
  private decode(r: Reader, idOf?: (storedId: number) => number): FlowRecord {
    const iso = this.iso;
    const storedId = r.uint();
    const id = idOf === undefined ? storedId : idOf(storedId);
    const flags = r.uint();
    const codes = r.uint();
    let c0 = 0, c1 = 0, c2 = 0xffff, c3: number;
    let s0 = 0, s1 = 0, s2 = 0xffff, s3: number;
    if ((flags & F_IPV4) !== 0) {
      c3 = r.uint();
      s3 = r.uint();
    } else {
      c0 = r.uint(); c1 = r.uint(); c2 = r.uint(); c3 = r.uint();
      s0 = r.uint(); s1 = r.uint(); s2 = r.uint(); s3 = r.uint();
    }
    const cPort = r.uint();
    const sPort = r.uint();
    const vlan = r.int();
    const incarnation = r.uint();
    const firstFrame = r.uint();
    const lastFrame = firstFrame + r.uint();
    const firstSec = r.uint();
    const firstNanos = r.uint();
    r.time(firstSec, firstNanos);
    const lastSec = r.sec;
    const lastNanos = r.nanos;
    const packetsC = r.uint(), packetsS = r.uint(), bytesC = r.uint(), bytesS = r.uint();
    const sinceC = r.packetTime(firstSec, firstNanos);
    const sinceS = r.packetTime(firstSec, firstNanos);
    const endT = r.packetTime(firstSec, firstNanos);
    const transitionsOmitted = r.uint();
    const counts: FlowRecord['counts'] = {
      syn: r.uint(),
      synAck: r.uint(),
      finClient: r.uint(),
      finServer: r.uint(),
      rstClient: r.uint(),
      rstServer: r.uint(),
      synRetransmissions: r.uint(),
      synAckRetransmissions: r.uint(),
      finRetransmissions: r.uint(),
      dataRetransmissionsClient: r.uint(),
      dataRetransmissionsServer: r.uint(),
      dataBytesClient: r.uint(),
      dataBytesServer: r.uint(),
      keepaliveProbes: r.uint(),
      duplicateAcks: r.uint(),
      zeroWindows: r.uint(),
    };
    const history = this.strings[r.uint()]!;
    const ttlC = r.uint() - 1, ttlS = r.uint() - 1;
    const unackedC = r.uint(), unackedS = r.uint();
    const segmentsOmitted = r.uint();
    let rttMs: FlowRecord['rttMs'];
    if ((flags & F_HAS_RTT) !== 0) {
      const serverSide = r.millis();
      const clientSide = r.millis();
      const total = r.millis();
      rttMs = { serverSide, clientSide, total };
    }
    let previous: FlowRecord['previous'];
    if ((flags & F_HAS_PREVIOUS) !== 0) {
      const storedPrevious = r.uint();
      const flowId = idOf === undefined ? storedPrevious : idOf(storedPrevious);
      const secondsSinceLastPacket = r.float();
      const finals = r.uint();
      previous = {
        flowId,
        secondsSinceLastPacket,
        finalState: this.intern.states(finals >>> 4, finals & 15),
        sameClient: (flags & F_PREVIOUS_SAME_CLIENT) !== 0,
      };
    }
    const nTransitions = r.uint();
    const transitions: Transition[] = new Array<Transition>(nTransitions);
    for (let i = 0; i < nTransitions; i++) {
      const frame = firstFrame + r.uint();
      r.time(firstSec, firstNanos);
      const tsSec = r.sec;
      const tsNanos = r.nanos;
      const code = r.uint();
      transitions[i] = {
        frame,
        ts: iso.format(tsSec, tsNanos),
        tSeconds: tsSec + tsNanos * 1e-9,
        side: (code & 1) !== 0 ? 'client' : 'server',
        from: STATE_BY_CODE[(code >>> 2) & 15] as TcpState,
        to: STATE_BY_CODE[(code >>> 6) & 15] as TcpState,
        inferred: (code & 2) !== 0,
      };
    }
    const nSegments = r.uint();
    const segments: SegmentSample[] = new Array<SegmentSample>(nSegments);
    for (let i = 0; i < nSegments; i++) {
      const frame = firstFrame + r.uint();
      r.time(firstSec, firstNanos);
      const sec = r.sec;
      const nanos = r.nanos;
      const bits = r.uint();
      const seq = r.uint();
      const ackPlus = r.uint();
      const len = r.uint();
      const window = r.uint();
      const retx = RETX_NAMES[(bits >>> 1) & 7];
      const base: SegmentSample = {
        frame,
        relSeconds: roundSeconds(sec - firstSec + (nanos - firstNanos) * 1e-9),
        from: (bits & 1) !== 0 ? 'client' : 'server',
        flags: flagsToText(bits >>> 4),
        seq,
        ack: ackPlus - 1,
        len,
        window,
      };
      segments[i] = retx === undefined ? base : { ...base, retransmission: retx };
    }
    let segmentsShown = segments;
    let segmentsOmittedShown = segmentsOmitted;
    if (idOf !== undefined && nSegments > 0 && (flags & F_ROUTINE) !== 0 && id > this.options.keepRoutineSamplesOfFirstFlows) {
      segmentsShown = [];
      segmentsOmittedShown = packetsC + packetsS;
    }
    let zeekContinuations: FlowRecord['zeekContinuations'];
    if ((flags & F_HAS_CONTINUATIONS) !== 0) {
      const k = r.uint();
      const list: { firstFrame: number; connState: ConnState; history: string }[] = [];
      for (let i = 0; i < k; i++) {
        const kFirst = r.uint();
        const kConn = CONN_STATES[r.uint()]!;
        const kHistory = this.strings[r.uint()]!;
        list.push({ firstFrame: kFirst, connState: kConn, history: kHistory });
      }
      zeekContinuations = list;
    }
    const roleReason = ROLE_REASONS[codes & 3]!;
    const record: FlowRecord = {
      id,
      client: { ip: this.intern.address(c0, c1, c2, c3), port: cPort },
      server: { ip: this.intern.address(s0, s1, s2, s3), port: sPort },
      vlan,
      rolesInferred: (flags & F_ROLES_INFERRED) !== 0,
      roleReason,
      incarnation,
      firstFrame,
      lastFrame,
      start: iso.format(firstSec, firstNanos),
      end: iso.format(lastSec, lastNanos),
      startSeconds: firstSec + firstNanos * 1e-9,
      endSeconds: lastSec + lastNanos * 1e-9,
      durationSeconds: roundSeconds(lastSec - firstSec + (lastNanos - firstNanos) * 1e-9),
      packets: { client: packetsC, server: packetsS },
      bytes: { client: bytesC, server: bytesS },
      handshake: HANDSHAKES[(codes >>> 2) & 7]!,
      finalState: this.intern.states((codes >>> 12) & 15, (codes >>> 16) & 15),
      secondsInFinalState: {
        client: roundSeconds(Math.max(0, endT - sinceC)),
        server: roundSeconds(Math.max(0, endT - sinceS)),
      },
      finalStateSinceSeconds: { client: sinceC, server: sinceS },
      transitions,
      transitionsOmitted,
      counts,
      connState: CONN_STATES[(codes >>> 8) & 15]!,
      history,
      closeReason: CLOSE_REASONS[(codes >>> 5) & 7]!,
      ttl: this.intern.ttl(ttlC, ttlS),
      unackedBytesAtEnd: { client: unackedC, server: unackedS },
      segments: segmentsShown,
      segmentsOmitted: segmentsOmittedShown,
      ...(rttMs !== undefined ? { rttMs } : {}),
      ...(previous !== undefined ? { previous } : {}),
      ...(zeekContinuations !== undefined ? { zeekContinuations } : {}),
    };
    return record;
  }
}

