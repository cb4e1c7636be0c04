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
import { SAMPLE_FIELDS, STATE_BY_CODE, stateCode, TRANSITION_FIELDS, unpackSample } from './flow-state.ts';
import type { EndpointTrack, FlowState, UnpackedSample } from './flow-state.ts';
import { IsoFormatter } from './iso-time.ts';
import { packetSeconds } from './packet-seconds.ts';
import { addressKeyOfWords } from './flow-summary.ts';
import type {
  ConnState,
  Endpoint,
  FlowList,
  FlowRecord,
  FlowSummary,
  HandshakeOutcome,
  SegmentSample,
  Side,
  TcpState,
  Transition,
  TransitionCore,
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
/** No page to write into yet: the first record moves to a new page at once. */
const NO_PAGE = new Uint8Array(0);
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
 * inferred or capped transition, no weird, no data after the peer's FIN: a half-close). Such
 * flows are most of a busy capture. Detectors must not need the samples of a routine flow: the
 * findings of a capture do not depend on `keepRoutineSamplesOfFirstFlows` (tested).
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
    f.client.dataRetransmissions === 0 &&
    f.server.dataRetransmissions === 0 &&
    n.zeroWindows === 0 &&
    n.keepaliveProbes === 0 &&
    n.duplicateAcks === 0 &&
    !anyInferred &&
    f.transitionsOmitted === 0 &&
    f.weirdCount === 0 &&
    !f.dataAfterPeerFin
  );
}

// ---------------------------------------------------------------------------------------------
// Byte writer (into the pages, or a scratch buffer) and reader (of either).

/**
 * Bytes in shared memory: a store made with `sharedMemory` keeps its pages and slot tables in
 * SharedArrayBuffers, so that another thread can read the same flows while this one does (see
 * {@link FlowStore.shareParts}: the diagnosis runs beside the report's pass over the flows);
 * written only by the store's own thread, before it is shared.
 */
function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/**
 * Writes one record at a time into `buf` from `start` on: the store's current page (so a record
 * is encoded where it stays, not copied there), or a scratch buffer. A record that outgrows
 * `buf` moves, as written so far, to a new buffer of at least `growMin` bytes, and the caller
 * finds it there (`buf` changed, `start` 0). Positions inside a record are relative to `start`.
 */
class Writer {
  buf: Uint8Array = NO_PAGE;
  pos = 0;
  /** Where the record being written begins in `buf`. */
  start = 0;
  /** Size of the buffer a record moves to when it outgrows `buf` (at least twice what it needs). */
  private growMin = 0;
  /** Whether a buffer the writer allocates is shared memory (see sharedBytes). */
  private shared = false;
  private readonly f64 = new Float64Array(1);
  private readonly f64Bytes = new Uint8Array(this.f64.buffer);
  private readonly varint = new Uint8Array(8);

  /** Starts a record at `start` of `buf`; a buffer it moves to is shared memory when `shared`. */
  begin(buf: Uint8Array, start: number, growMin: number, shared: boolean): void {
    this.buf = buf;
    this.pos = start;
    this.start = start;
    this.growMin = growMin;
    this.shared = shared;
  }

  /** Bytes of the record written so far. */
  get length(): number {
    return this.pos - this.start;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    const size = Math.max(this.growMin, 2 * (used + n));
    const next = this.shared ? sharedBytes(size) : new Uint8Array(size);
    next.set(this.buf.subarray(this.start, this.pos));
    this.buf = next;
    this.start = 0;
    this.pos = used;
  }

  /** Unsigned integer 0 .. 2^53-1, LEB128. */
  uint(v: number): void {
    this.ensure(8);
    const b = this.buf;
    let p = this.pos;
    if (v < 4294967296) {
      // 32-bit arithmetic (`>>>` keeps it unsigned): addresses and epoch seconds pass here.
      let u = v >>> 0;
      while (u >= 0x80) {
        b[p++] = (u & 0x7f) | 0x80;
        u >>>= 7;
      }
      b[p++] = u;
    } else {
      while (v >= 0x80) {
        b[p++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      b[p++] = v;
    }
    this.pos = p;
  }

  /** Inserts `v` (as {@link uint}) at byte `offset` of the record, moving the bytes written since then up. */
  insertUint(offset: number, v: number): void {
    const endOffset = this.pos - this.start;
    this.uint(v);
    const at = this.start + offset;
    const end = this.start + endOffset;
    const size = this.pos - end;
    const b = this.buf;
    // The varint was written at the end: rotate it in front of the bytes from `at` (through a
    // small reused buffer: a varint is at most 8 bytes).
    const tmp = this.varint;
    for (let i = 0; i < size; i++) tmp[i] = b[end + i]!;
    b.copyWithin(at + size, at, end);
    for (let i = 0; i < size; i++) b[at + i] = tmp[i]!;
  }

  /** Signed safe integer, zigzag. */
  int(v: number): void {
    this.uint(zigzag(v));
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
      const dn = nanos - firstNanos;
      const dns = ds * 1e9 + dn;
      // Whole microseconds: ds * 1e9 is, so only the nanosecond difference (an int32) is
      // tested. The remainder is taken of the int32 (`dni`), not of `dn`: V8 computes `%` of a
      // double with a call to C's fmod (~7 ns), of an int32 with a multiplication.
      const dni = dn | 0;
      if (dni === dn && dni % 1000 === 0) {
        const us = dns / 1000;
        this.uint(zigzag(us) * 4);
      } else {
        this.uint(zigzag(dns) * 4 + 1);
      }
      return;
    }
    this.uint(2);
    this.int(ds);
    this.uint(nanos);
  }

  /**
   * A packet time given as epoch seconds `t` (packetSeconds of some packet's sec and nanos):
   * finds a (sec, nanos) that gives back exactly this float and writes it with {@link time};
   * tag 3 and the raw float when there is none (a time not made that way).
   */
  packetTime(t: number, firstSec: number, firstNanos: number): void {
    if (Number.isFinite(t)) {
      const sec = Math.floor(t);
      const frac = t - sec;
      const us = Math.round(frac * 1e6) * 1000;
      const ns = Math.round(frac * 1e9);
      // Whole microseconds first (every classic pcap), then nanoseconds and their neighbours.
      for (let k = 0; k < 4; k++) {
        const nanos = k === 0 ? us : k === 1 ? ns : k === 2 ? ns - 1 : ns + 1;
        if (nanos >= 0 && nanos < 1e9 && packetSeconds(sec, nanos) === t) {
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

/** A signed safe integer as an unsigned one for a varint: 0, -1, 1, -2 … become 0, 1, 2, 3 … */
function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/**
 * The signed integer of a zigzag varint (see {@link zigzag}). Bit operations while `z` fits 31 bits:
 * `%` of a double is a call to C's fmod in V8, and this runs for every time and signed field read.
 */
function unzigzag(z: number): number {
  if (z <= 0x7fffffff) {
    const h = z >>> 1;
    return (z & 1) === 0 ? h : -h - 1;
  }
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

class Reader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  private readonly f64 = new Float64Array(1);
  private readonly f64Bytes = new Uint8Array(this.f64.buffer);

  /** One varint. Small on purpose, so the compiler inlines it: most values take one byte. */
  uint(): number {
    const byte = this.buf[this.pos]!;
    if (byte < 0x80) {
      this.pos++;
      return byte;
    }
    return this.uintLong();
  }

  /** {@link uint} of two bytes or more. */
  private uintLong(): number {
    const b = this.buf;
    let p = this.pos;
    let byte = b[p++]!;
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
    return unzigzag(this.uint());
  }

  /** Reads what Writer.packetTime wrote: the float it was given. */
  packetTime(firstSec: number, firstNanos: number): number {
    const v = this.uint();
    if (v === 3) return this.float();
    this.timeOf(v, firstSec, firstNanos);
    return packetSeconds(this.sec, this.nanos);
  }

  /** Reads what Writer.millis wrote. */
  millis(): number {
    const v = this.int();
    if (v === 1) return this.float();
    return v / 2 / 1e3;
  }

  /** Reads what Writer.time wrote; sets `sec` and `nanos`. */
  time(firstSec: number, firstNanos: number): void {
    this.timeOf(this.uint(), firstSec, firstNanos);
  }

  /** {@link time} with its first varint already read. */
  private timeOf(v: number, firstSec: number, firstNanos: number): void {
    // Bit operations while `v` fits 31 bits (nearly always): `%` of a double calls C's fmod.
    const small = v <= 0x7fffffff;
    const tag = small ? v & 3 : v % 4;
    if (tag === 2) {
      this.sec = firstSec + this.int();
      this.nanos = this.uint();
      return;
    }
    const x = unzigzag(small ? v >>> 2 : (v - tag) / 4);
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
   * hosts, so nearly every lookup hits; a collision only costs one formatting. A slot keeps the
   * first address that took it: when hosts outnumber the slots (the benchmark capture has 429,489
   * clients), replacing texts made every formatted one outlive two scavenges through the cache,
   * so each pass over the records left ~20 MB of old-space garbage; a text not kept dies young.
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
    if (cached !== undefined) return text;
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

const NO_SEGMENTS: SegmentSample[] = [];

const NO_BYTES = new Uint8Array(0);

/** An endpoint of a {@link ScratchFlow}: address words, text formatted (interned) when first read. */
class ScratchEndpoint implements Endpoint {
  w0 = 0;
  w1 = 0;
  w2 = 0xffff;
  w3 = 0;
  port = 0;
  text: string | undefined = undefined;

  constructor(private readonly intern: Interner) {}

  get ip(): string {
    return (this.text ??= this.intern.address(this.w0, this.w1, this.w2, this.w3));
  }
}

/** A transition of a {@link ScratchFlow}, with the (sec, nanos) its ISO text is formatted from. */
class ScratchTransition implements TransitionCore {
  frame = 0;
  tSeconds = 0;
  sec = 0;
  nanos = 0;
  side: Side = 'client';
  from: TcpState = 'CLOSED';
  to: TcpState = 'CLOSED';
  inferred = false;
}

/**
 * The list of length `n` over the first `n` pooled objects (made as needed), one list per length
 * kept in `lists`: a summary's transitions and samples are overwritten flow after flow, and
 * resizing one list per flow made V8 trim and regrow its backing store every time.
 */
function pooledList<T>(pool: T[], lists: T[][], n: number, make: () => T): T[] {
  while (pool.length < n) pool.push(make());
  let list = lists[n];
  if (list === undefined) {
    list = pool.slice(0, n);
    lists[n] = list;
  }
  return list;
}

/**
 * A segment sample of a summary: pooled and overwritten flow after flow (records get their own
 * objects). It has `retransmission` present and undefined where a record's sample has none (see
 * FlowSummary), hence no `implements SegmentSample` under exactOptionalPropertyTypes.
 */
class ScratchSegment {
  frame = 0;
  relSeconds = 0;
  from: Side = 'client';
  flags = '';
  seq = 0;
  ack = 0;
  len = 0;
  window = 0;
  /** Always present (possibly undefined) on the pooled object, so its shape never changes. */
  retransmission: NonNullable<SegmentSample['retransmission']> | undefined = undefined;
}

/**
 * Reads the sample at `r`'s position (the layout FlowStore.encodeSample writes) into `out`: the
 * one decoder of a sample, for summaries (pooled objects) and records (copied into new ones).
 */
function readSample(r: Reader, s: ScratchFlow, out: ScratchSegment): void {
  out.frame = s.firstFrame + r.uint();
  r.time(s.firstSec, s.firstNanos);
  const bits = r.uint();
  out.relSeconds = roundSeconds(r.sec - s.firstSec + (r.nanos - s.firstNanos) * 1e-9);
  out.from = (bits & 1) !== 0 ? 'client' : 'server';
  out.flags = flagsToText(bits >>> 4);
  out.seq = r.uint();
  out.ack = r.uint() - 1;
  out.len = r.uint();
  out.window = r.uint();
  out.retransmission = RETX_NAMES[(bits >>> 1) & 7];
}

/**
 * The one mutable {@link FlowSummary} a store decodes every flow into (FlowStore.read): `scan`
 * hands it out as is, `at` copies it into a fresh record. Nested objects are reused too.
 */
class ScratchFlow implements FlowSummary {
  id = 0;
  readonly client: ScratchEndpoint;
  readonly server: ScratchEndpoint;
  vlan = -1;
  rolesInferred = false;
  roleReason: FlowRecord['roleReason'] = 'syn';
  incarnation = 0;
  firstFrame = 0;
  lastFrame = 0;
  firstSec = 0;
  firstNanos = 0;
  lastSec = 0;
  lastNanos = 0;
  startSeconds = 0;
  endSeconds = 0;
  durationSeconds = 0;
  readonly packets = { client: 0, server: 0 };
  readonly bytes = { client: 0, server: 0 };
  handshake: HandshakeOutcome = 'complete';
  finalState: FlowRecord['finalState'];
  readonly secondsInFinalState = { client: 0, server: 0 };
  readonly finalStateSinceSeconds = { client: 0, server: 0 };
  readonly transitionPool: ScratchTransition[] = [];
  /** The transitions list of each length so far, over the pooled objects (see pooledList). */
  readonly transitionLists: ScratchTransition[][] = [];
  transitionList: ScratchTransition[] = [];
  /** The page holding the flow's record: its transitions and samples are decoded from it when read. */
  buf: Uint8Array = NO_BYTES;
  /** Where the flow's encoded transitions are, and whether {@link transitions} decoded them (this flow). */
  transitionCount = 0;
  transitionPos = 0;
  transitionsRead = false;
  transitionsOmitted = 0;
  readonly counts: FlowRecord['counts'] = {
    syn: 0, synAck: 0, finClient: 0, finServer: 0, rstClient: 0, rstServer: 0,
    synRetransmissions: 0, synAckRetransmissions: 0, finRetransmissions: 0,
    dataRetransmissionsClient: 0, dataRetransmissionsServer: 0, dataBytesClient: 0, dataBytesServer: 0,
    keepaliveProbes: 0, duplicateAcks: 0, zeroWindows: 0,
  };
  connState: ConnState = 'OTH';
  history = '';
  closeReason: FlowRecord['closeReason'] = 'closed';
  ttl: FlowRecord['ttl'];
  readonly unackedBytesAtEnd = { client: 0, server: 0 };
  segmentsOmitted = 0;
  /** Where the flow's encoded samples are, and what {@link segments} decoded of them (this flow). */
  segmentCount = 0;
  segmentsDropped = false;
  segmentPos = 0;
  segmentCache: readonly SegmentSample[] | undefined = undefined;
  /** Pooled samples and one list per length over them, as for transitions (see transitionLists). */
  readonly segmentPool: ScratchSegment[] = [];
  readonly segmentLists: ScratchSegment[][] = [];
  readonly rtt = { serverSide: 0, clientSide: 0, total: 0 };
  rttMs: FlowRecord['rttMs'] | undefined = undefined;
  readonly previousScratch = { flowId: 0, secondsSinceLastPacket: 0, finalState: undefined as unknown as FlowRecord['finalState'], sameClient: false };
  previous: FlowRecord['previous'] | undefined = undefined;
  /** Zeek continuations follow the segments (read only when building a record). */
  hasContinuations = false;

  /** See FlowSummary.clientAddressKey and addressKeyOfWords: no address text is built. */
  get clientAddressKey(): number | string {
    const c = this.client;
    return addressKeyOfWords(c.w0, c.w1, c.w2, c.w3);
  }

  get serverAddressKey(): number | string {
    const c = this.server;
    return addressKeyOfWords(c.w0, c.w1, c.w2, c.w3);
  }

  /** The transitions, decoded on first read during this flow's visit (one reused list). */
  get transitions(): readonly TransitionCore[] {
    if (!this.transitionsRead) this.decodeTransitions(this);
    return this.transitionList;
  }

  /** See FlowSummary.sampledSegments: what `segments.length` will be, from the record's count. */
  get sampledSegments(): number {
    return this.segmentsDropped ? 0 : this.segmentCount;
  }

  /** The segment samples, decoded on first read during this flow's visit. */
  get segments(): readonly SegmentSample[] {
    return (this.segmentCache ??= this.decodeSegments(this));
  }

  constructor(
    intern: Interner,
    private readonly decodeTransitions: (flow: ScratchFlow) => void,
    private readonly decodeSegments: (flow: ScratchFlow) => readonly SegmentSample[],
  ) {
    this.client = new ScratchEndpoint(intern);
    this.server = new ScratchEndpoint(intern);
    this.finalState = intern.states(0, 0);
    this.ttl = intern.ttl(-1, -1);
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
  /** Bytes per page of encoded records. Default 1 MiB; tests use small pages so records cross page ends. */
  readonly pageBytes?: number;
  /**
   * Pages and slot tables in shared memory, so another thread can read the flows while this one
   * does (see {@link FlowStore.shareParts}). Default false: V8 does not count shared memory
   * towards its collection heuristics as it counts ArrayBuffers, and with ~100 MB of shared
   * pages the diagnosis of the benchmark capture peaked at 285-292 MB instead of 243-245 MB; only
   * `tcpmortem report` with several jobs asks for it (AnalyzeOptions.sharedMemory), where the
   * diagnosis then runs on a second thread.
   */
  readonly sharedMemory?: boolean;
}

/**
 * Flows in compact encoded form, by 0-based slot (the analysis uses slot = id - 1, so slot order is
 * id order). {@link put} encodes a live flow as it leaves the tracker; {@link at} and iteration
 * build its FlowRecord. Implements {@link FlowList}: records are fresh objects on every access.
 */
export class FlowStore implements FlowList {
  private readonly pages: Uint8Array[] = [];
  private readonly pageBytes: number;
  /** Bytes used of the last page (a full page, when there is none, so the first record starts one). */
  private pageUsed: number;
  /** Per slot: page index and byte offset of its record (EMPTY_SLOT when not filled). */
  private readonly slotPage: Uint32Array[] = [];
  private readonly slotOffset: Uint32Array[] = [];
  /** Per slot: the flow's first frame number (orders the flows of several shards). */
  private readonly slotFirstFrame: Float64Array[] = [];
  private slots = 0;
  private filled = 0;
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  /** String ids of Zeek histories by ZeekSession.firstHistoryKey. */
  private readonly historyIds = new Map<number, number>();
  private readonly writer = new Writer();
  /** A sample being encoded, unpacked (see unpackSample). */
  private readonly unpacked: UnpackedSample = {
    frame: 0, tsSec: 0, tsNanos: 0, fromClient: false, flags: 0, retx: 0, seq: 0, ack: 0, len: 0, window: 0,
  };
  /** Where {@link record} encodes (grown as needed). */
  private scratchBytes: Uint8Array = new Uint8Array(4096);
  private readonly reader = new Reader();
  private readonly iso: IsoFormatter;
  private readonly intern = new Interner();
  /**
   * What flows are decoded into (see ScratchFlow): one for the records `at` builds, one for the
   * summaries `scan` hands out, so building a record during a visit leaves the summary alone.
   */
  private readonly scratch = this.newScratch();
  private readonly summary = this.newScratch();
  private readonly segmentReader = new Reader();
  /** What a record's samples are read into before each is copied into its own object. */
  private readonly sampleScratch = new ScratchSegment();
  /** Bytes of encoded records (for benchmarks and tests of the memory bound). */
  encodedBytes = 0;

  constructor(readonly options: FlowStoreOptions) {
    this.iso = new IsoFormatter(options.tsPrecisionDigits);
    this.pageBytes = options.pageBytes ?? PAGE_BYTES;
    this.pageUsed = this.pageBytes;
  }

  private newScratch(): ScratchFlow {
    return new ScratchFlow(
      this.intern,
      (f) => this.summaryTransitions(f),
      (f) => this.summarySegments(f),
    );
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
    // Encoded in place at the end of the current page; a record that does not fit there moves to
    // a new page as it is written (see Writer), leaving the rest of this one unused.
    let pageIndex = this.pages.length - 1;
    const current = this.pageUsed < this.pageBytes ? this.pages[pageIndex]! : NO_PAGE;
    w.begin(current, current === NO_PAGE ? 0 : this.pageUsed, this.pageBytes, this.options.sharedMemory === true);
    this.encode(w, f, reason, endT);
    if (w.buf !== current) {
      this.pages.push(w.buf);
      pageIndex = this.pages.length - 1;
    }
    const at = w.start;
    const len = w.pos - at;
    const sp = slot >>> SLOT_PAGE_BITS;
    while (this.slotPage.length <= sp) {
      const backing = (bytes: number): ArrayBufferLike => (this.options.sharedMemory === true ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
      this.slotPage.push(new Uint32Array(backing(SLOT_PAGE * 4)).fill(EMPTY_SLOT));
      this.slotOffset.push(new Uint32Array(backing(SLOT_PAGE * 4)));
      this.slotFirstFrame.push(new Float64Array(backing(SLOT_PAGE * 8)));
    }
    const so = slot & (SLOT_PAGE - 1);
    this.slotFirstFrame[sp]![so] = f.firstFrame;
    if (this.slotPage[sp]![so] === EMPTY_SLOT) this.filled++;
    this.slotPage[sp]![so] = pageIndex;
    this.slotOffset[sp]![so] = at;
    this.pageUsed = w.pos;
    this.encodedBytes += len;
    if (slot >= this.slots) this.slots = slot + 1;
  }

  /** The record in `index`, built afresh; undefined when out of range or never filled. */
  at(index: number): FlowRecord | undefined {
    return this.atWithIds(index, undefined);
  }

  /**
   * Whether the filled slots are in first-frame order (flow ids in order of first packet). Not
   * so when a flood flow was kept: it gets its id when it stops being one (see
   * FlowTracker.update), after flows that started later; `MergedFlowList` renumbers then.
   */
  inFirstFrameOrder(): boolean {
    let last = -Infinity;
    for (let slot = 0; slot < this.slots; slot++) {
      if (!this.filledAt(slot)) continue;
      const frame = this.firstFrameAt(slot);
      if (frame < last) return false;
      last = frame;
    }
    return true;
  }

  /** Whether `slot` holds a flow. */
  filledAt(slot: number): boolean {
    const pageIndex = this.slotPage[slot >>> SLOT_PAGE_BITS]?.[slot & (SLOT_PAGE - 1)];
    return pageIndex !== undefined && pageIndex !== EMPTY_SLOT;
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
    return this.seek(index) ? this.decode(this.reader, idOf) : undefined;
  }

  /**
   * The summary of the flow in `index` (ids mapped by `idOf` as in {@link atWithIds}), decoded
   * into the store's one reused summary object: valid until the next summary of this store
   * (records built meanwhile do not touch it).
   */
  summaryAt(index: number, idOf?: (storedId: number) => number): FlowSummary | undefined {
    if (!this.seek(index)) return undefined;
    this.read(this.reader, idOf, this.summary);
    return this.summary;
  }

  /** FlowList fast path: every filled slot's summary, in slot order (see {@link summaryAt}). */
  scan(visit: (flow: FlowSummary, position: number) => void): void {
    for (let i = 0; i < this.slots; i++) {
      const s = this.summaryAt(i, undefined);
      if (s !== undefined) visit(s, i);
    }
  }

  /** Points the reader at the record in `index`; false when out of range or never filled. */
  private seek(index: number): boolean {
    if (!(index >= 0 && index < this.slots)) return false;
    const sp = index >>> SLOT_PAGE_BITS;
    const so = index & (SLOT_PAGE - 1);
    const pageIndex = this.slotPage[sp]?.[so];
    if (pageIndex === undefined || pageIndex === EMPTY_SLOT) return false;
    const r = this.reader;
    r.buf = this.pages[pageIndex]!;
    r.pos = this.slotOffset[sp]![so]!;
    return true;
  }

  /**
   * The store's buffers and tables, to move it to another thread (`transfer` lists the buffers to
   * hand over; the store must not be used afterwards). Its pages and slot tables are shared memory
   * (see sharedBytes): those are shared with the receiver, not moved.
   */
  exportParts(): { parts: FlowStoreParts; transfer: ArrayBuffer[] } {
    const parts = this.parts();
    const transfer: ArrayBuffer[] = [];
    for (const list of [this.pages, this.slotPage, this.slotOffset, this.slotFirstFrame]) {
      for (const a of list) if (!(a.buffer instanceof SharedArrayBuffer)) transfer.push(a.buffer as ArrayBuffer);
    }
    return { parts, transfer };
  }

  /**
   * The store's buffers and tables for a reader in another thread, this store staying usable: its
   * pages and slot tables are shared memory (`sharedMemory`), so a message carries them without a
   * copy (the strings are copied). Undefined for a store not in shared memory. The store must not
   * be written to while the reader reads.
   */
  shareParts(): FlowStoreParts | undefined {
    const all = [...this.pages, ...this.slotPage, ...this.slotOffset, ...this.slotFirstFrame];
    return all.every((a) => a.buffer instanceof SharedArrayBuffer) ? this.parts() : undefined;
  }

  private parts(): FlowStoreParts {
    return {
      pages: this.pages,
      slotPage: this.slotPage,
      slotOffset: this.slotOffset,
      slotFirstFrame: this.slotFirstFrame,
      slots: this.slots,
      filled: this.filled,
      strings: this.strings,
      encodedBytes: this.encodedBytes,
    };
  }

  /** A read-only store over parts made by {@link exportParts} (possibly in another thread). */
  static fromParts(options: FlowStoreOptions, parts: FlowStoreParts): FlowStore {
    const store = new FlowStore(options);
    store.pages.push(...parts.pages);
    store.pageUsed = store.pageBytes; // never appended to
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
    w.begin(this.scratchBytes, 0, 2 * this.scratchBytes.length, false);
    this.encode(w, f, reason, endT);
    this.scratchBytes = w.buf;
    const r = this.reader;
    r.buf = w.buf;
    r.pos = 0;
    return this.decode(r);
  }

  /** The string id of a flow's Zeek history, interned by its numeric key when it has one (no text built). */
  private historyId(zeek: FlowState['zeek']): number {
    const key = zeek.firstHistoryKey();
    if (key < 0) return this.stringId(zeek.firstHistory());
    let id = this.historyIds.get(key);
    if (id === undefined) {
      id = this.stringId(zeek.firstHistory());
      this.historyIds.set(key, id);
    }
    return id;
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
  //   u nTransitions, u their byte length, per: u frame-firstFrame, t time, u code,
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
    w.uint(n.finRetransmissions); w.uint(c.dataRetransmissions); w.uint(s.dataRetransmissions);
    w.uint(c.dataBytes); w.uint(s.dataBytes); w.uint(n.keepaliveProbes);
    w.uint(n.duplicateAcks); w.uint(n.zeroWindows);
    w.uint(this.historyId(f.zeek));
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
    // Their byte length goes first, so a summary steps over them in one move (see read).
    const transitionsAt = w.length;
    for (let at = 0; at + TRANSITION_FIELDS <= trLength; at += TRANSITION_FIELDS) {
      w.uint(tr[at]! - f.firstFrame);
      w.time(tr[at + 1]!, tr[at + 2]!, f.firstSec, f.firstNanos);
      w.uint(tr[at + 3]!);
    }
    w.insertUint(transitionsAt, w.length - transitionsAt);

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

  /** One sample (see SAMPLE_FIELDS for how the tracker packs it). */
  private encodeSample(w: Writer, f: FlowState, arr: Float64Array, at: number): void {
    const x = this.unpacked;
    unpackSample(arr, at, x);
    const fromClient = x.fromClient;
    const ep = fromClient ? f.client : f.server;
    const peer = fromClient ? f.server : f.client;
    const ackNumber = x.ack;
    w.uint(x.frame - f.firstFrame);
    w.time(x.tsSec, x.tsNanos, f.firstSec, f.firstNanos);
    w.uint((fromClient ? 1 : 0) | (x.retx << 1) | (x.flags << 4));
    w.uint(relativeSeq(x.seq, ep.base));
    w.uint(ackNumber < 0 ? 0 : (peer.seqKnown ? relativeSeq(ackNumber, peer.base) : ackNumber) + 1);
    w.uint(x.len);
    w.uint(x.window);
  }

  /**
   * Builds the record at the reader's position. `idOf`, when given, maps the stored (shard-local)
   * flow ids of this record and of its `previous` to the ids the record shows.
   */
  /**
   * Reads the record at the reader's position into `s` (the summary of the flow): every field but
   * ISO texts, which {@link recordOf} formats. Segment samples a merged list would drop (routine,
   * past the keep limit) are skipped without building them.
   */
  private read(r: Reader, idOf: ((storedId: number) => number) | undefined, s: ScratchFlow): void {
    const storedId = r.uint();
    const id = idOf === undefined ? storedId : idOf(storedId);
    s.id = id;
    const flags = r.uint();
    const codes = r.uint();
    const client = s.client;
    const server = s.server;
    client.text = undefined;
    server.text = undefined;
    if ((flags & F_IPV4) !== 0) {
      client.w0 = 0; client.w1 = 0; client.w2 = 0xffff; client.w3 = r.uint();
      server.w0 = 0; server.w1 = 0; server.w2 = 0xffff; server.w3 = r.uint();
    } else {
      client.w0 = r.uint(); client.w1 = r.uint(); client.w2 = r.uint(); client.w3 = r.uint();
      server.w0 = r.uint(); server.w1 = r.uint(); server.w2 = r.uint(); server.w3 = r.uint();
    }
    client.port = r.uint();
    server.port = r.uint();
    s.vlan = r.int();
    s.incarnation = r.uint();
    const firstFrame = r.uint();
    s.firstFrame = firstFrame;
    s.lastFrame = firstFrame + r.uint();
    const firstSec = r.uint();
    const firstNanos = r.uint();
    s.firstSec = firstSec;
    s.firstNanos = firstNanos;
    r.time(firstSec, firstNanos);
    const lastSec = r.sec;
    const lastNanos = r.nanos;
    s.lastSec = lastSec;
    s.lastNanos = lastNanos;
    s.startSeconds = packetSeconds(firstSec, firstNanos);
    s.endSeconds = packetSeconds(lastSec, lastNanos);
    s.durationSeconds = roundSeconds(lastSec - firstSec + (lastNanos - firstNanos) * 1e-9);
    const packets = s.packets;
    const bytes = s.bytes;
    packets.client = r.uint(); packets.server = r.uint(); bytes.client = r.uint(); bytes.server = r.uint();
    const sinceC = r.packetTime(firstSec, firstNanos);
    const sinceS = r.packetTime(firstSec, firstNanos);
    const endT = r.packetTime(firstSec, firstNanos);
    s.secondsInFinalState.client = roundSeconds(Math.max(0, endT - sinceC));
    s.secondsInFinalState.server = roundSeconds(Math.max(0, endT - sinceS));
    s.finalStateSinceSeconds.client = sinceC;
    s.finalStateSinceSeconds.server = sinceS;
    s.transitionsOmitted = r.uint();
    const counts = s.counts;
    counts.syn = r.uint();
    counts.synAck = r.uint();
    counts.finClient = r.uint();
    counts.finServer = r.uint();
    counts.rstClient = r.uint();
    counts.rstServer = r.uint();
    counts.synRetransmissions = r.uint();
    counts.synAckRetransmissions = r.uint();
    counts.finRetransmissions = r.uint();
    counts.dataRetransmissionsClient = r.uint();
    counts.dataRetransmissionsServer = r.uint();
    counts.dataBytesClient = r.uint();
    counts.dataBytesServer = r.uint();
    counts.keepaliveProbes = r.uint();
    counts.duplicateAcks = r.uint();
    counts.zeroWindows = r.uint();
    s.history = this.strings[r.uint()]!;
    const ttlC = r.uint() - 1, ttlS = r.uint() - 1;
    s.ttl = this.intern.ttl(ttlC, ttlS);
    s.unackedBytesAtEnd.client = r.uint();
    s.unackedBytesAtEnd.server = r.uint();
    const segmentsOmitted = r.uint();
    if ((flags & F_HAS_RTT) !== 0) {
      const rtt = s.rtt;
      rtt.serverSide = r.millis();
      rtt.clientSide = r.millis();
      rtt.total = r.millis();
      s.rttMs = rtt;
    } else {
      s.rttMs = undefined;
    }
    if ((flags & F_HAS_PREVIOUS) !== 0) {
      const previous = s.previousScratch;
      const storedPrevious = r.uint();
      previous.flowId = idOf === undefined ? storedPrevious : idOf(storedPrevious);
      previous.secondsSinceLastPacket = r.float();
      const finals = r.uint();
      previous.finalState = this.intern.states(finals >>> 4, finals & 15);
      previous.sameClient = (flags & F_PREVIOUS_SAME_CLIENT) !== 0;
      s.previous = previous;
    } else {
      s.previous = undefined;
    }
    // Transitions are decoded when read (see ScratchFlow.transitions): skip them here.
    const nTransitions = r.uint();
    s.buf = r.buf;
    s.transitionCount = nTransitions;
    s.transitionsRead = false;
    const transitionBytes = r.uint();
    s.transitionPos = r.pos;
    r.pos += transitionBytes;
    const nSegments = r.uint();
    // A merged list drops the samples of a routine flow past the keep limit (see encode).
    const drop = idOf !== undefined && nSegments > 0 && (flags & F_ROUTINE) !== 0 && id > this.options.keepRoutineSamplesOfFirstFlows;
    s.segmentsOmitted = drop ? packets.client + packets.server : segmentsOmitted;
    // Samples are decoded when read (most passes never read them): from here, see ScratchFlow.segments.
    s.segmentCount = nSegments;
    s.segmentsDropped = drop;
    s.segmentPos = r.pos;
    s.segmentCache = undefined;
    s.hasContinuations = (flags & F_HAS_CONTINUATIONS) !== 0;
    s.rolesInferred = (flags & F_ROLES_INFERRED) !== 0;
    s.roleReason = ROLE_REASONS[codes & 3]!;
    s.handshake = HANDSHAKES[(codes >>> 2) & 7]!;
    s.closeReason = CLOSE_REASONS[(codes >>> 5) & 7]!;
    s.connState = CONN_STATES[(codes >>> 8) & 15]!;
    s.finalState = this.intern.states((codes >>> 12) & 15, (codes >>> 16) & 15);
  }

  /**
   * A fresh record of the flow just {@link read} into `s` (the reader stands at its segment
   * samples).
   */
  private recordOf(r: Reader, s: ScratchFlow): FlowRecord {
    const iso = this.iso;
    const segments = this.readSegments(r, s);
    let zeekContinuations: FlowRecord['zeekContinuations'];
    if (s.hasContinuations) {
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
    const list = s.transitions as readonly ScratchTransition[];
    const n = list.length;
    const transitions: Transition[] = new Array<Transition>(n);
    for (let i = 0; i < n; i++) {
      const t = list[i]!;
      transitions[i] = {
        frame: t.frame,
        ts: iso.format(t.sec, t.nanos),
        tSeconds: t.tSeconds,
        side: t.side,
        from: t.from,
        to: t.to,
        inferred: t.inferred,
      };
    }
    const rtt = s.rttMs;
    const prev = s.previous;
    const c = s.counts;
    const record: FlowRecord = {
      id: s.id,
      client: { ip: s.client.ip, port: s.client.port },
      server: { ip: s.server.ip, port: s.server.port },
      vlan: s.vlan,
      rolesInferred: s.rolesInferred,
      roleReason: s.roleReason,
      incarnation: s.incarnation,
      firstFrame: s.firstFrame,
      lastFrame: s.lastFrame,
      start: iso.format(s.firstSec, s.firstNanos),
      end: iso.format(s.lastSec, s.lastNanos),
      startSeconds: s.startSeconds,
      endSeconds: s.endSeconds,
      durationSeconds: s.durationSeconds,
      packets: { client: s.packets.client, server: s.packets.server },
      bytes: { client: s.bytes.client, server: s.bytes.server },
      handshake: s.handshake,
      finalState: s.finalState,
      secondsInFinalState: { client: s.secondsInFinalState.client, server: s.secondsInFinalState.server },
      finalStateSinceSeconds: { client: s.finalStateSinceSeconds.client, server: s.finalStateSinceSeconds.server },
      transitions,
      transitionsOmitted: s.transitionsOmitted,
      counts: {
        syn: c.syn,
        synAck: c.synAck,
        finClient: c.finClient,
        finServer: c.finServer,
        rstClient: c.rstClient,
        rstServer: c.rstServer,
        synRetransmissions: c.synRetransmissions,
        synAckRetransmissions: c.synAckRetransmissions,
        finRetransmissions: c.finRetransmissions,
        dataRetransmissionsClient: c.dataRetransmissionsClient,
        dataRetransmissionsServer: c.dataRetransmissionsServer,
        dataBytesClient: c.dataBytesClient,
        dataBytesServer: c.dataBytesServer,
        keepaliveProbes: c.keepaliveProbes,
        duplicateAcks: c.duplicateAcks,
        zeroWindows: c.zeroWindows,
      },
      connState: s.connState,
      history: s.history,
      closeReason: s.closeReason,
      ttl: s.ttl,
      unackedBytesAtEnd: { client: s.unackedBytesAtEnd.client, server: s.unackedBytesAtEnd.server },
      segments: segments === NO_SEGMENTS ? [] : segments,
      segmentsOmitted: s.segmentsOmitted,
      ...(rtt !== undefined ? { rttMs: { serverSide: rtt.serverSide, clientSide: rtt.clientSide, total: rtt.total } } : {}),
      ...(prev !== undefined
        ? { previous: { flowId: prev.flowId, secondsSinceLastPacket: prev.secondsSinceLastPacket, finalState: prev.finalState, sameClient: prev.sameClient } }
        : {}),
      ...(zeekContinuations !== undefined ? { zeekContinuations } : {}),
    };
    return record;
  }

  /**
   * The segment samples of the flow read into `s`, from `r` standing at them (left after them):
   * built afresh, or skipped (NO_SEGMENTS) when none or dropped.
   */
  private readSegments(r: Reader, s: ScratchFlow): readonly SegmentSample[] {
    const n = s.segmentCount;
    const x = this.sampleScratch;
    if (s.segmentsDropped) {
      for (let i = 0; i < n; i++) readSample(r, s, x);
      return NO_SEGMENTS;
    }
    if (n === 0) return NO_SEGMENTS;
    const segments = new Array<SegmentSample>(n);
    for (let i = 0; i < n; i++) {
      readSample(r, s, x);
      const base: SegmentSample = {
        frame: x.frame,
        relSeconds: x.relSeconds,
        from: x.from,
        flags: x.flags,
        seq: x.seq,
        ack: x.ack,
        len: x.len,
        window: x.window,
      };
      segments[i] = x.retransmission === undefined ? base : { ...base, retransmission: x.retransmission };
    }
    return segments;
  }


  /** Decodes the transitions of the summary `s` into its reused list (its `transitions` getter). */
  private summaryTransitions(s: ScratchFlow): void {
    const r = this.segmentReader;
    r.buf = s.buf;
    r.pos = s.transitionPos;
    const n = s.transitionCount;
    const firstFrame = s.firstFrame;
    const firstSec = s.firstSec;
    const firstNanos = s.firstNanos;
    const pool = s.transitionPool;
    s.transitionList = pooledList(pool, s.transitionLists, n, () => new ScratchTransition());
    for (let i = 0; i < n; i++) {
      const t = pool[i]!;
      t.frame = firstFrame + r.uint();
      r.time(firstSec, firstNanos);
      t.sec = r.sec;
      t.nanos = r.nanos;
      t.tSeconds = packetSeconds(t.sec, t.nanos);
      const code = r.uint();
      t.side = (code & 1) !== 0 ? 'client' : 'server';
      t.from = STATE_BY_CODE[(code >>> 2) & 15] as TcpState;
      t.to = STATE_BY_CODE[(code >>> 6) & 15] as TcpState;
      t.inferred = (code & 2) !== 0;
    }
    s.transitionsRead = true;
  }

  /**
   * The samples of the summary `s` (its `segments` getter): decoded once per flow with a reader of
   * their own, into pooled objects (the pre-pass of the diagnosis reads the samples of every
   * sampled flow, and allocating them was most of its garbage).
   */
  private summarySegments(s: ScratchFlow): readonly SegmentSample[] {
    const n = s.segmentCount;
    if (s.segmentsDropped || n === 0) return NO_SEGMENTS;
    const r = this.segmentReader;
    r.buf = s.buf;
    r.pos = s.segmentPos;
    const pool = s.segmentPool;
    const list = pooledList(pool, s.segmentLists, n, () => new ScratchSegment());
    for (let i = 0; i < n; i++) readSample(r, s, pool[i]!);
    return list as readonly SegmentSample[];
  }

  private decode(r: Reader, idOf?: (storedId: number) => number): FlowRecord {
    this.read(r, idOf, this.scratch);
    return this.recordOf(r, this.scratch);
  }
}

