/**
 * The flow tracker: TCP segments in capture order in, one {@link FlowRecord} per connection
 * (incarnation of a 4-tuple) out.
 *
 * Call order: {@link FlowTracker.add} for every TCP segment in capture order, then
 * {@link FlowTracker.finish} once. `onFlow` is called synchronously from inside `add` (a flow
 * closed and its linger passed, went idle, was superseded by a new incarnation, or was pushed out
 * by the live-flow cap) and from `finish` (every flow still live, closeReason `end_of_capture`).
 * Flows are therefore emitted roughly in order of their end, not of their id; sort by `id` if
 * you need first-packet order.
 *
 * Memory: only live flows are held (bounded by `maxLiveFlows`), plus a bounded memory of recently
 * closed incarnations. Per flow, transitions and segment samples are capped; counts are exact.
 *
 * @module
 */

import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/types.ts';
import type { TcpSegment } from '../decode/types.ts';
import { flowHash, matchesEndpoints, sentByClient } from '../flow/flow-key.ts';
import { FlowTable, SMALL_KEY } from '../flow/flow-table.ts';
import { seqDiff, seqGt, seqGte, seqLt, seqMax } from '../flow/seq.ts';
import {
  EndpointTrack,
  FlowState,
  packSampleLength,
  packSampleWord,
  RETX_DATA,
  RETX_FIN,
  RETX_KEEPALIVE,
  RETX_NONE,
  RETX_SYN,
  RETX_SYNACK,
  SAMPLE_FIELDS,
  TRANSITION_FIELDS,
  transitionCode,
} from './flow-state.ts';
import { DEFAULT_FLOW_TRACKER_OPTIONS } from './options.ts';
import type { FlowTrackerOptions } from './options.ts';
import { Float64Slabs } from './float-slabs.ts';
import { FlowStore } from './flow-store.ts';
import { MemoryRing, MemoryTable } from './memory-table.ts';
import type { ClosedIncarnation } from './memory-table.ts';
import { isUnansweredSynOnly, SynBalance, SynFolds } from './syn-folds.ts';
import { isFinalState, nextState } from './transitions.ts';
import { packetSeconds } from './packet-seconds.ts';
import type { EndpointEvent } from './transitions.ts';
import type { FlowRecord, TcpState } from './types.ts';

/** Ports below this are "well known" (IANA system ports) and taken as the server's. */
const WELL_KNOWN_PORT_LIMIT = 1024;
/**
 * Ports at or above this are treated as ephemeral (client) ports: Linux picks 32768-60999, IANA
 * and Windows 49152-65535; both ranges lie above 32768.
 */
const EPHEMERAL_PORT_START = 32768;

/**
 * A live flow is a flood flow (see synFloodOutstanding) while it has no id: it waits on the flood
 * list and gets an id only when it becomes an ordinary flow (see FlowTracker.update).
 */
function isFloodFlow(f: FlowState): boolean {
  return f.id === 0;
}

/** Doubly linked list of flows in order of last activity (head = least recent). */
class LruList {
  head: FlowState | null = null;
  tail: FlowState | null = null;

  append(f: FlowState): void {
    f.lruPrev = this.tail;
    f.lruNext = null;
    if (this.tail !== null) this.tail.lruNext = f;
    else this.head = f;
    this.tail = f;
  }

  unlink(f: FlowState): void {
    if (f.lruPrev !== null) f.lruPrev.lruNext = f.lruNext;
    else this.head = f.lruNext;
    if (f.lruNext !== null) f.lruNext.lruPrev = f.lruPrev;
    else this.tail = f.lruPrev;
    f.lruPrev = null;
    f.lruNext = null;
  }

  /** Moves a member to the tail (most recent); O(1), no allocation. */
  touch(f: FlowState): void {
    if (this.tail === f) return;
    this.unlink(f);
    this.append(f);
  }
}

/**
 * Tracks every TCP connection of a capture and both endpoints' RFC 9293 states.
 * See the module comment for the call order and memory bounds.
 */
export class FlowTracker {
  private readonly options: Readonly<FlowTrackerOptions>;
  /** Where flows go: a store (slot = id - 1), or a callback that gets each built record. */
  private readonly onFlow: ((flow: FlowRecord) => void) | undefined;
  private readonly store: FlowStore | undefined;
  /** Encodes records for the callback API and snapshots (never holds them). */
  private readonly scratch: FlowStore;
  /**
   * Retired FlowState objects, reset and ready for reuse. Why: a flow's state (~1 KB in a dozen
   * objects) lives seconds of packet time, long enough to be promoted out of V8's young
   * generation, so allocating one per connection made old-generation GC most of the analysis
   * time on busy captures. The pool is bounded by the peak number of live flows.
   */
  private readonly pool: FlowState[] = [];
  /** The pooled states' packed arrays (transitions, samples), recycled by length. */
  private readonly slabs = new Float64Slabs();
  private readonly table = new FlowTable<FlowState>();
  private readonly active = new LruList();
  /** Closed flows with a side not in a final state (e.g. after a RST one side ignored): `lingerSeconds`. */
  private readonly lingering = new LruList();
  /** Closed flows with both sides in CLOSED or TIME_WAIT: `finalLingerSeconds`. */
  private readonly lingeringFinal = new LruList();
  /** Closed incarnations by tuple hash, for `previous`: the newest memory per key. */
  private readonly remembered = new MemoryTable();
  /**
   * The memories in order of closing: one leaves from the head once it is older than
   * `rememberClosedSeconds` (it can no longer link anything) or when `maxRememberedClosed` are
   * kept. A queue, not Map insertion order, because V8 Map iteration skips deleted slots one by
   * one and evicting "the first key" that way turns quadratic on long captures. Memories leave by
   * age, not only by count, so that which ones are kept does not depend on how many other flows
   * closed meanwhile: a shard of the capture (see `--jobs`) links exactly the incarnations the
   * whole capture links.
   */
  private readonly memories = new MemoryRing();
  /** What a hit in `remembered` is read into (one object, reused). */
  private readonly recalled: ClosedIncarnation = {
    c0: 0, c1: 0, c2: 0, c3: 0, cPort: 0, s0: 0, s1: 0, s2: 0, s3: 0, sPort: 0, vlan: 0,
    flowId: 0, incarnation: 0, hash: 0, lastT: 0, finalClient: 'CLOSED', finalServer: 'CLOSED',
  };
  private nextId = 1;
  private sweepSec = -Infinity;
  private lastT = Number.NEGATIVE_INFINITY;
  private finished = false;

  /** Flows created so far (exact). */
  flowsCreated = 0;
  /** Flows that left before closing: idle timeout or the live-flow cap (exact). */
  flowsEvicted = 0;
  /** SYNs outstanding per listener, when this tracker sees every segment (see `add`). */
  private readonly balance: SynBalance;
  /** Flood flows (see synFloodOutstanding) while their client has sent only SYNs, LRU order. */
  private readonly flood = new LruList();
  private floodLive = 0;
  /** Unanswered SYN-only flood flows counted instead of kept (see synFloodOutstanding). */
  readonly folds = new SynFolds();
  /** Of `flowsEvicted`, those pushed out by `maxLiveFlows` rather than by the idle timeout. */
  flowsEvictedForCapacity = 0;
  /** Flows handed to `onFlow` so far. */
  flowsEmitted = 0;
  /** Anomaly ("weird") counts by stable snake_case name. */
  readonly weirds = new Map<string, number>();

  /**
   * @param options - overrides of {@link DEFAULT_FLOW_TRACKER_OPTIONS}.
   * @param sink - where each flow goes once, when it leaves the live table: a {@link FlowStore}
   *   (encoded into slot `id - 1`, the analysis's compact path), or a callback that receives the
   *   built record (the caller's to keep; the tracker holds no reference to it).
   */
  constructor(options: Partial<FlowTrackerOptions>, sink: ((flow: FlowRecord) => void) | FlowStore) {
    this.options = { ...DEFAULT_FLOW_TRACKER_OPTIONS, ...options };
    if (sink instanceof FlowStore) {
      this.store = sink;
      this.onFlow = undefined;
    } else {
      this.store = undefined;
      this.onFlow = sink;
    }
    this.scratch = new FlowStore({
      tsPrecisionDigits: this.options.tsPrecisionDigits,
      keepRoutineSamplesOfFirstFlows: this.options.keepRoutineSamplesOfFirstFlows,
    });
    this.balance = new SynBalance(this.options.synFloodOutstanding);
  }

  /** Flows currently in the live table (open, or closed and lingering). */
  get liveFlows(): number {
    return this.table.size;
  }

  /**
   * Adds one TCP segment, in capture order.
   *
   * @param seg - the decoder's scratch segment; only numbers are copied, it may be reused after.
   * @param frameNumber - 1-based frame number in the capture (as Wireshark numbers frames).
   * @param tsSec - packet time, whole seconds since the epoch.
   * @param tsNanos - nanoseconds within that second.
   * @param hash - `flowHash(seg)`, when the caller already has it (the shards of `--jobs` get it
   *   from the reader thread, which hashed the segment to pick the shard).
   * @param flood - 1 when the segment is a SYN to a listener under a SYN flood, 0 when not, as
   *   the reader thread of `--jobs` decided it (a shard sees only some SYNs); -1: the tracker
   *   decides (see synFloodOutstanding).
   * @throws Error when called after {@link finish}.
   */
  add(seg: TcpSegment, frameNumber: number, tsSec: number, tsNanos: number, hash: number = flowHash(seg), flood = -1): void {
    if (this.finished) throw new Error('FlowTracker.add called after finish()');
    this.observeTime(tsSec, tsNanos);
    const floodSyn = flood >= 0 ? flood === 1 : this.balance.note(seg);

    let flow = this.table.lookup(seg, hash);
    if (flow !== undefined && (seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN) {
      const reason = this.newIncarnationReason(flow, seg);
      if (reason !== undefined) {
        this.retire(flow, reason, packetSeconds(tsSec, tsNanos));
        flow = undefined;
      }
    }
    if (flow === undefined) flow = this.createFlow(seg, hash, frameNumber, tsSec, tsNanos, floodSyn);
    this.update(flow, seg, sentByClient(flow, seg), frameNumber, tsSec, tsNanos);
  }

  /**
   * Packet time passing without a segment for this tracker: what a shard of the capture (see
   * `--jobs`) is told when the capture's clock enters a new second on another shard's packet, so
   * its idle and linger timeouts fire at the same packet times as in a single tracker. Same
   * effect as the time bookkeeping at the start of {@link add}.
   */
  tick(tsSec: number, tsNanos: number): void {
    if (this.finished) throw new Error('FlowTracker.tick called after finish()');
    this.observeTime(tsSec, tsNanos);
  }

  /**
   * The time bookkeeping of every segment: the latest time seen, and the eviction sweep, which
   * runs at most once per second of packet time (walking the LRU lists from their least recent
   * end stops at the first flow still inside its timeout, so a sweep costs O(flows evicted), never
   * a scan of the table).
   */
  private observeTime(tsSec: number, tsNanos: number): void {
    this.noteLatest(tsSec, tsNanos);
    if (tsSec > this.sweepSec) {
      this.sweepSec = tsSec;
      this.sweep(packetSeconds(tsSec, tsNanos));
    }
  }

  /** Keeps the latest packet time seen (`lastT`, for the end of capture). */
  private noteLatest(tsSec: number, tsNanos: number): void {
    const t = packetSeconds(tsSec, tsNanos);
    if (t >= this.lastT) this.lastT = t;
  }

  /**
   * End of capture: every live flow leaves with closeReason `end_of_capture` (closed flows still
   * lingering keep `closed` / `reset`), with `secondsInFinalState` measured to the last packet
   * time seen by {@link add} (or `endSec`/`endNanos` when later: the capture's last packet time,
   * for a tracker fed one shard of the capture). Call once; `add` throws afterwards.
   */
  finish(endSec?: number, endNanos?: number): void {
    if (this.finished) return;
    this.finished = true;
    // The capture's last packet time, when this tracker saw only a shard of it (no sweep: the
    // end of capture is not a packet).
    if (endSec !== undefined && endNanos !== undefined) this.noteLatest(endSec, endNanos);
    const flows = this.table.values();
    flows.sort((a, b) => a.id - b.id);
    for (const f of flows) this.retire(f, f.closed ? f.closeReason : 'end_of_capture', this.lastT);
    // Nothing is tracked any more: the pooled states (as many as the peak of live flows) and the
    // memories of closed incarnations go, before the later stages need the memory.
    this.pool.length = 0;
    this.slabs.clear();
    this.memories.clear();
    this.remembered.clear();
  }

  /**
   * Records of the flows live right now, without removing them (what `netstat` would show at the
   * latest packet time), sorted by id. closeReason is `closed`/`reset` for lingering flows and
   * `end_of_capture` for open ones; `secondsInFinalState` is measured to the latest packet time.
   * Allocates one record per live flow: for reports and tests, not the per-packet path.
   */
  snapshot(): FlowRecord[] {
    const flows = this.table.values();
    flows.sort((a, b) => a.id - b.id);
    return flows.map((f) => this.scratch.record(f, f.closed ? f.closeReason : 'end_of_capture', this.lastT));
  }

  // ---------------------------------------------------------------------------------------------

  private weird(name: string, flow: FlowState): void {
    this.weirds.set(name, (this.weirds.get(name) ?? 0) + 1);
    flow.weirdCount++;
    if (this.options.onWeird !== undefined) this.options.onWeird(name, flow.id);
  }

  /**
   * Whether a pure SYN on a live 4-tuple starts a new incarnation, and why the old one leaves.
   * - Same ISN as the sender's earlier SYN: a retransmission, same flow.
   * - The old flow closed, was reset, or a side sits in TIME_WAIT: a new connection reusing the
   *   4-tuple (RFC 9293 §3.6.1 allows a SYN to reopen from TIME_WAIT).
   * - The sender is past SYN_SENT in the old flow (established, closing, or seen mid-stream) yet
   *   opens again with a new ISN: the old connection is gone on that host (reboot, abort without a
   *   captured RST); the old flow is `superseded`.
   * - The sender is still in SYN_SENT with a new ISN: a new attempt on the same socket (weird
   *   `syn_seq_jump`), same flow, as Zeek treats it.
   */
  private newIncarnationReason(flow: FlowState, seg: TcpSegment): FlowRecord['closeReason'] | undefined {
    const snd = sentByClient(flow, seg) ? flow.client : flow.server;
    if (snd.synSent && seg.seq === snd.isn) return undefined;
    if (flow.closed) return flow.closeReason;
    if (flow.client.state === 'TIME_WAIT' || flow.server.state === 'TIME_WAIT') return 'closed';
    if (snd.state !== 'CLOSED' && snd.state !== 'SYN_SENT') return 'superseded';
    return undefined;
  }

  private createFlow(seg: TcpSegment, hash: number, frame: number, tsSec: number, tsNanos: number, floodSyn: boolean): FlowState {
    const t = packetSeconds(tsSec, tsNanos);
    if (this.table.size >= this.options.maxLiveFlows) this.evictForCapacity(t);
    if (floodSyn && this.floodLive >= this.options.maxLiveFloodFlows && this.flood.head !== null) {
      this.flowsEvicted++;
      this.flowsEvictedForCapacity++;
      this.retire(this.flood.head, 'idle_timeout', t);
    }
    const f = this.pool.pop() ?? new FlowState(this.slabs);
    // Roles. A SYN fixes them; without one, use the first rule that applies:
    // 1. a SYN-ACK: its receiver sent the SYN we missed;
    // 2. ports: a well-known port (< 1024) faces an unprivileged one, or a non-ephemeral port
    //    faces an ephemeral one (>= 32768): the former is the listening server;
    // 3. otherwise the first sender is taken as the client (it spoke first, like a client).
    const flags = seg.flags;
    let senderIsClient: boolean;
    if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      senderIsClient = true;
      f.roleReason = 'syn';
    } else if ((flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
      senderIsClient = false;
      f.roleReason = 'synack';
    } else {
      const sp = seg.srcPort;
      const dp = seg.dstPort;
      if ((sp < WELL_KNOWN_PORT_LIMIT) !== (dp < WELL_KNOWN_PORT_LIMIT)) {
        senderIsClient = dp < WELL_KNOWN_PORT_LIMIT;
        f.roleReason = 'port';
      } else if ((sp >= EPHEMERAL_PORT_START) !== (dp >= EPHEMERAL_PORT_START)) {
        senderIsClient = sp >= EPHEMERAL_PORT_START;
        f.roleReason = 'port';
      } else {
        senderIsClient = true;
        f.roleReason = 'first_packet';
      }
    }
    f.rolesInferred = f.roleReason !== 'syn';
    if (senderIsClient) {
      f.c0 = seg.src0; f.c1 = seg.src1; f.c2 = seg.src2; f.c3 = seg.src3; f.cPort = seg.srcPort;
      f.s0 = seg.dst0; f.s1 = seg.dst1; f.s2 = seg.dst2; f.s3 = seg.dst3; f.sPort = seg.dstPort;
    } else {
      f.c0 = seg.dst0; f.c1 = seg.dst1; f.c2 = seg.dst2; f.c3 = seg.dst3; f.cPort = seg.dstPort;
      f.s0 = seg.src0; f.s1 = seg.src1; f.s2 = seg.src2; f.s3 = seg.src3; f.sPort = seg.srcPort;
    }
    f.vlan = seg.vlanKey;
    f.hash = hash;
    f.ipVersion = seg.ipVersion;
    // A flood flow gets its id only if it is kept (see update): folded ones never take a slot.
    f.id = floodSyn ? 0 : this.nextId++;
    f.firstFrame = frame;
    f.lastFrame = frame;
    f.firstSec = tsSec;
    f.firstNanos = tsNanos;
    f.firstT = t;
    f.lastSec = tsSec;
    f.lastNanos = tsNanos;
    f.lastT = t;
    f.client.stateSinceT = t;
    f.server.stateSinceT = t;

    const seq = this.remembered.get(hash & SMALL_KEY);
    const prev = seq < 0 ? undefined : this.memories.read(seq, this.recalled);
    if (prev !== undefined && matchesEndpoints(prev, seg)) {
      if (t - prev.lastT <= this.options.rememberClosedSeconds) {
        f.incarnation = prev.incarnation + 1;
        // The opener of the new incarnation is its client; compare with the old client endpoint.
        const sameClient =
          f.cPort === prev.cPort && f.c0 === prev.c0 && f.c1 === prev.c1 && f.c2 === prev.c2 && f.c3 === prev.c3;
        f.previous = {
          flowId: prev.flowId,
          secondsSinceLastPacket: t - prev.lastT,
          finalState: { client: prev.finalClient, server: prev.finalServer },
          sameClient,
        };
      }
    }
    this.table.insert(f);
    if (floodSyn) {
      this.flood.append(f);
      this.floodLive++;
    } else {
      this.active.append(f);
    }
    this.flowsCreated++;
    return f;
  }

  private sweep(t: number): void {
    const idle = this.options.idleTimeoutSeconds;
    for (let f = this.active.head; f !== null && t - f.lastT > idle; f = this.active.head) {
      this.flowsEvicted++;
      this.retire(f, 'idle_timeout', t);
    }
    for (let f = this.flood.head; f !== null && t - f.lastT > idle; f = this.flood.head) {
      this.flowsEvicted++;
      this.retire(f, 'idle_timeout', t);
    }
    const linger = this.options.lingerSeconds;
    for (let f = this.lingering.head; f !== null && t - f.lastT > linger; f = this.lingering.head) {
      this.retire(f, f.closeReason, t);
    }
    const finalLinger = this.options.finalLingerSeconds;
    for (let f = this.lingeringFinal.head; f !== null && t - f.lastT > finalLinger; f = this.lingeringFinal.head) {
      this.retire(f, f.closeReason, t);
    }
  }

  /** The LRU list a live flow is on: active, or one of the two linger lists. */
  private listOf(f: FlowState): LruList {
    if (isFloodFlow(f)) return this.flood;
    if (!f.closed) return this.active;
    return f.lingerFinal ? this.lingeringFinal : this.lingering;
  }

  private evictForCapacity(t: number): void {
    const victim = this.lingeringFinal.head ?? this.lingering.head ?? this.flood.head ?? this.active.head;
    if (victim === null) return;
    if (!victim.closed) {
      this.flowsEvicted++;
      this.flowsEvictedForCapacity++;
      this.retire(victim, 'idle_timeout', t);
    } else {
      this.retire(victim, victim.closeReason, t);
    }
  }

  /** Removes a flow from the live table, remembers its tuple, and emits its record. */
  private retire(f: FlowState, reason: FlowRecord['closeReason'], endT: number): void {
    this.table.remove(f);
    this.listOf(f).unlink(f);
    if (isFloodFlow(f)) {
      // Its client sent only SYNs, its server nothing (update makes any other an ordinary flow).
      // Counted, not kept (and not remembered: nothing on its tuple answered).
      this.floodLive--;
      if (isUnansweredSynOnly(f)) {
        this.folds.add(f);
        f.reset(this.slabs);
        this.pool.push(f);
        return;
      }
      f.id = this.nextId++;
    }
    // One memory per hash: a colliding tuple overwrites it (losing a `previous` link, never
    // making a wrong one, since lookups compare every field). Memories past their age leave from
    // the head of the queue; when it is full, the oldest leaves whatever its age.
    const keep = this.options.rememberClosedSeconds;
    const limit = Math.max(1, this.options.maxRememberedClosed);
    const memories = this.memories;
    while (memories.count > 0) {
      const head = memories.headSeq;
      if (memories.count < limit && !(endT - memories.lastTOf(head) > keep)) break;
      this.remembered.remove(memories.keyOf(head), head);
      memories.shift();
    }
    this.remembered.set(f.hash & SMALL_KEY, memories.push(f));
    this.flowsEmitted++;
    if (this.store !== undefined) this.store.put(f.id - 1, f, reason, endT);
    else this.onFlow?.(this.scratch.record(f, reason, endT));
    f.reset(this.slabs);
    this.pool.push(f);
  }

  /** Applies one endpoint event and records the transition when the state changes. */
  private apply(
    f: FlowState,
    ep: EndpointTrack,
    isClient: boolean,
    event: EndpointEvent,
    frame: number,
    tsSec: number,
    tsNanos: number,
    inferred: boolean,
  ): void {
    const from = ep.state;
    const to = nextState(from, event);
    if (to === from) return;
    ep.state = to;
    ep.stateSinceT = packetSeconds(tsSec, tsNanos);
    const used = f.transitionsLength;
    if (used < this.options.maxTransitionsPerFlow * TRANSITION_FIELDS) {
      if (used + TRANSITION_FIELDS > f.transitions.length) f.transitions = this.slabs.grow(f.transitions, used);
      const tr = f.transitions;
      tr[used] = frame;
      tr[used + 1] = tsSec;
      tr[used + 2] = tsNanos;
      tr[used + 3] = transitionCode(isClient, inferred, from, to);
      f.transitionsLength = used + TRANSITION_FIELDS;
    } else {
      f.transitionsOmitted++;
    }
  }

  /** One segment of flow `f` (see packetSeconds for why the time comes as two integers). */
  private update(f: FlowState, seg: TcpSegment, fromClient: boolean, frame: number, tsSec: number, tsNanos: number): void {
    const t = packetSeconds(tsSec, tsNanos);
    const snd = fromClient ? f.client : f.server;
    const rcv = fromClient ? f.server : f.client;
    const counts = f.counts;
    const flags = seg.flags;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const ack = (flags & TCP_ACK) !== 0;
    const seq = seg.seq;
    const len = seg.payloadLength;
    let retx = RETX_NONE;

    snd.packets++;
    snd.bytes += (seg.ipVersion === 6 ? 40 : 20) + seg.headerLength + len;
    if (f.lastT <= t) {
      f.lastSec = tsSec;
      f.lastNanos = tsNanos;
      f.lastT = t;
    }
    f.lastFrame = frame;
    if (isFloodFlow(f) && (!fromClient || (flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) !== TCP_SYN || len > 0)) {
      // More than SYNs: an ordinary flow from now on (it can no longer be folded). Its id comes
      // now, after flows that started later: the store is then not in first-packet order, and
      // the analysis renumbers by first frame (see FlowStore.inFirstFrameOrder).
      this.flood.unlink(f);
      this.floodLive--;
      f.id = this.nextId++;
      this.active.append(f);
    }
    this.listOf(f).touch(f);

    const firstFromSender = !snd.sent;
    if (firstFromSender) {
      snd.sent = true;
      snd.ttl = seg.ttl;
      // A side whose first segment is neither SYN nor RST was already connected before the
      // capture started: its state is unknown until evidence shows it (see established_evidence).
      if (!syn && !rst && snd.state === 'CLOSED') snd.state = 'UNKNOWN';
    } else if (snd.rstSent && !syn && !rst && len > 0) {
      this.weird('data_after_reset', f);
    }
    const seqKnownBefore = snd.seqKnown;
    const sndNxtBefore = snd.sndNxt;
    const finSentBefore = snd.finSent;
    if (!snd.seqKnown) {
      snd.seqKnown = true;
      snd.base = seq;
      snd.sndNxt = seq;
    }

    f.zeek.process(tsSec, tsNanos, frame, fromClient, seg);

    // --- SYN / SYN-ACK -----------------------------------------------------------------------
    if (syn && !rst) {
      if (seg.windowScale >= 0) snd.windowScale = seg.windowScale;
      const sameIsn = snd.synSent && seq === snd.isn;
      if (!ack) {
        counts.syn++;
        if (sameIsn) {
          counts.synRetransmissions++;
          retx = RETX_SYN;
        }
        if (f.firstSynAckT < 0) f.lastSynT = t;
      } else {
        counts.synAck++;
        if (sameIsn) {
          counts.synAckRetransmissions++;
          retx = RETX_SYNACK;
        }
        if (f.firstSynAckT < 0) f.firstSynAckT = t;
        if (f.handshakeAckT < 0) f.lastSynAckT = t;
      }
      if (sameIsn && ack && !fromClient && f.serverEstablishedProvisional && snd.state === 'ESTABLISHED') {
        this.retractServerEstablished(f);
      }
      if (!sameIsn) {
        if (snd.synSent) this.weird('syn_seq_jump', f);
        snd.synSent = true;
        snd.isn = seq;
        snd.base = seq;
        snd.sndNxt = seq;
      }
      this.apply(f, snd, fromClient, ack ? 'send_synack' : 'send_syn', frame, tsSec, tsNanos, false);
    }

    // --- payload, keep-alives, retransmissions -------------------------------------------------
    if (!rst) {
      const dataStart = syn ? (seq + 1) >>> 0 : seq;
      // Keep-alive (Wireshark tcp.analysis.keep_alive): at most one byte at SND.NXT - 1 without
      // SYN/FIN. It repeats a byte on purpose to elicit an ACK, so it is not a retransmission.
      const keepalive =
        seqKnownBefore && !syn && !fin && len <= 1 && seqDiff(seq, sndNxtBefore) === -1;
      if (keepalive) {
        counts.keepaliveProbes++;
        retx = RETX_KEEPALIVE;
      } else if (len > 0) {
        if (seqKnownBefore && seqLt(dataStart, sndNxtBefore)) {
          snd.dataRetransmissions++;
          if (retx === RETX_NONE) retx = RETX_DATA;
        }
        const dataEnd = (dataStart + len) >>> 0;
        if (seqGt(dataEnd, snd.sndNxt)) snd.dataBytes += seqDiff(dataEnd, seqMax(dataStart, snd.sndNxt));
        // New payload after the peer's FIN and before our own: a half-close (see isRoutine).
        if (retx === RETX_NONE && rcv.finObserved && !finSentBefore) f.dataAfterPeerFin = true;
      }
      const segEnd = (seq + len + (syn ? 1 : 0) + (fin ? 1 : 0)) >>> 0;
      if (seqGt(segEnd, snd.sndNxt)) snd.sndNxt = segEnd;

      // Zero window (Wireshark tcp.analysis.zero_window): window 0 without SYN, FIN or RST.
      if (seg.window === 0 && !syn && !fin) counts.zeroWindows++;
      // Duplicate ACK (Wireshark tcp.analysis.duplicate_ack): no payload, no SYN/FIN/RST, same
      // ACK and same non-zero window as this side's previous segment, sequence at SND.NXT.
      if (
        ack &&
        !syn &&
        !fin &&
        len === 0 &&
        !keepalive &&
        snd.ackValid &&
        seg.window !== 0 &&
        seg.ack === snd.lastAck &&
        seg.window === snd.lastWindow &&
        seqKnownBefore &&
        seq === sndNxtBefore
      ) {
        counts.duplicateAcks++;
      }
    }
    if (ack) {
      snd.ackValid = true;
      snd.lastAck = seg.ack;
    }
    snd.lastWindow = seg.window;

    if (rst) {
      this.handleRst(f, snd, rcv, fromClient, seg, seqKnownBefore, sndNxtBefore, frame, tsSec, tsNanos);
    } else {
      if (!fromClient && !syn && (f.serverEstablishedProvisional || f.serverEstablishedRetracted)) {
        this.confirmServerEstablished(f, seg, frame, tsSec, tsNanos);
      }
      this.handleAck(f, snd, rcv, fromClient, seg, finSentBefore, frame, tsSec, tsNanos);
      if (fin) {
        const finSeq = (seq + len + (syn ? 1 : 0)) >>> 0;
        if (fromClient) counts.finClient++;
        else counts.finServer++;
        if (snd.finSent) {
          if (snd.finInferred && !snd.finObserved) snd.finObserved = true;
          else if (finSeq === snd.finSeq) {
            counts.finRetransmissions++;
            retx = RETX_FIN;
          }
        } else {
          snd.finSent = true;
          snd.finObserved = true;
          snd.finSeq = finSeq;
          this.apply(f, snd, fromClient, 'send_fin', frame, tsSec, tsNanos, false);
        }
      }
    }

    this.sample(f, frame, tsSec, tsNanos, fromClient, flags, seq, ack ? seg.ack : -1, len, seg.window, retx);

    if (!f.closed) {
      let reason: FlowRecord['closeReason'] | undefined;
      if (rst) reason = 'reset';
      else if (f.client.sent && f.server.sent && isFinalState(f.client.state) && isFinalState(f.server.state)) {
        reason = 'closed';
      }
      if (reason !== undefined) {
        this.active.unlink(f);
        f.closed = true;
        f.closeReason = reason;
        f.lingerFinal = isFinalState(f.client.state) && isFinalState(f.server.state);
        this.listOf(f).append(f);
      }
    } else {
      // A late segment can move a side into (or, by a new SYN-less event, out of) a final state.
      const bothFinal = isFinalState(f.client.state) && isFinalState(f.server.state);
      if (bothFinal !== f.lingerFinal) {
        this.listOf(f).unlink(f);
        f.lingerFinal = bothFinal;
        this.listOf(f).append(f);
      }
    }
  }

  private handleAck(
    f: FlowState,
    snd: EndpointTrack,
    rcv: EndpointTrack,
    fromClient: boolean,
    seg: TcpSegment,
    finSentBefore: boolean,
    frame: number,
    tsSec: number,
    tsNanos: number,
  ): void {
    const t = packetSeconds(tsSec, tsNanos);
    const syn = (seg.flags & TCP_SYN) !== 0;
    const a = seg.ack;
    if ((seg.flags & TCP_ACK) !== 0) {
      if (!rcv.ackRcvdKnown || seqGt(a, rcv.highestAckRcvd)) {
        rcv.ackRcvdKnown = true;
        rcv.highestAckRcvd = a;
      }
      // The peer's SYN is acknowledged: this side received it.
      if (rcv.synSent && !snd.ackedPeerSyn && seqGte(a, (rcv.isn + 1) >>> 0)) {
        snd.ackedPeerSyn = true;
        this.apply(f, snd, fromClient, 'ack_peer_syn', frame, tsSec, tsNanos, false);
        rcv.ownSynAcked = true;
        if (fromClient && rcv.state === 'SYN_RECEIVED') {
          // Provisional until the server shows it accepted this ACK (see retractServerEstablished).
          const stored = f.transitionsLength;
          f.provisionalSinceT = rcv.stateSinceT;
          this.apply(f, rcv, false, 'own_syn_acked', frame, tsSec, tsNanos, false);
          f.serverEstablishedProvisional = (rcv.state as TcpState) === 'ESTABLISHED';
          f.provisionalIndex = f.transitionsLength > stored ? stored : -1;
        } else {
          this.apply(f, rcv, !fromClient, 'own_syn_acked', frame, tsSec, tsNanos, false);
        }
        if (fromClient && !syn && f.handshakeAckT < 0 && f.firstSynAckT >= 0) f.handshakeAckT = t;
      }
      // Lost FIN: the peer never sent a FIN we saw, yet this ACK covers exactly one octet past the
      // peer's highest byte. Only a FIN (or a lost 1-byte segment, much rarer at that point)
      // consumes exactly one octet, so we infer the FIN and record it as inferred.
      if (
        !rcv.finSent &&
        rcv.seqKnown &&
        (rcv.ownSynAcked || !rcv.synSent) &&
        seqDiff(a, rcv.sndNxt) === 1 &&
        (rcv.state === 'ESTABLISHED' || rcv.state === 'CLOSE_WAIT' || rcv.state === 'UNKNOWN')
      ) {
        rcv.finSent = true;
        rcv.finInferred = true;
        rcv.finSeq = rcv.sndNxt;
        rcv.sndNxt = (rcv.sndNxt + 1) >>> 0;
        this.apply(f, rcv, !fromClient, 'send_fin', frame, tsSec, tsNanos, true);
      }
      // The peer's FIN is acknowledged: this side received it.
      if (rcv.finSent && !snd.ackedPeerFin && seqGte(a, (rcv.finSeq + 1) >>> 0)) {
        snd.ackedPeerFin = true;
        this.apply(f, snd, fromClient, 'ack_peer_fin', frame, tsSec, tsNanos, false);
        if (snd.ownFinAckPending) {
          snd.ownFinAckPending = false;
          this.apply(f, snd, fromClient, 'own_fin_acked', frame, tsSec, tsNanos, false);
        }
        rcv.ownFinAcked = true;
        if (rcv.state === 'FIN_WAIT_1' && finSentBefore && !rcv.ackedPeerFin) {
          rcv.ownFinAckPending = true; // crossing FINs, see EndpointTrack.ownFinAckPending
        } else {
          this.apply(f, rcv, !fromClient, 'own_fin_acked', frame, tsSec, tsNanos, false);
        }
      }
    }
    // A server in SYN_RECEIVED that sends anything but a SYN-ACK proves the handshake completed:
    // the client's final ACK is just missing from the capture. Both sides become ESTABLISHED,
    // inferred, at this segment.
    if (!syn && snd.state === 'SYN_RECEIVED' && !snd.ownSynAcked && rcv.state === 'SYN_SENT') {
      rcv.ackedPeerSyn = true;
      this.apply(f, rcv, !fromClient, 'ack_peer_syn', frame, tsSec, tsNanos, true);
      snd.ownSynAcked = true;
      this.apply(f, snd, fromClient, 'own_syn_acked', frame, tsSec, tsNanos, true);
      f.handshakeInferred = true;
    }
    // A side seen only mid-stream is ESTABLISHED once it sends data or acknowledges the peer's.
    if (
      snd.state === 'UNKNOWN' &&
      (seg.payloadLength > 0 || ((seg.flags & TCP_ACK) !== 0 && rcv.seqKnown && seqGt(a, rcv.base)))
    ) {
      this.apply(f, snd, fromClient, 'established_evidence', frame, tsSec, tsNanos, false);
    }
  }

  /**
   * Heuristic, accept-queue overflow with `tcp_abort_on_overflow = 0`: the server's move to
   * ESTABLISHED on the client's ACK is only provisional, because a Linux listener whose accept
   * queue is full silently drops that ACK and keeps the connection as a request socket in
   * SYN_RECEIVED, resending its SYN-ACK on the SYN-ACK timer. A later SYN-ACK retransmission (same
   * ISN) from the server therefore proves the server never accepted the ACK: the provisional
   * server transition is removed and the server is back in SYN_RECEIVED, since it entered it.
   * The retraction is sticky: the client's re-ACKs of the resent SYN-ACK are again dropped by a
   * still-full queue, so only server behaviour (see confirmServerEstablished) moves it on.
   * Cost of being wrong: a SYN-ACK retransmission that crossed the client's ACK on the wire (the
   * server's timer fired just before the ACK arrived) also retracts; if the server then never
   * sends data nor acknowledges client data, it is left in SYN_RECEIVED.
   */
  private retractServerEstablished(f: FlowState): void {
    const s = f.server;
    f.serverEstablishedProvisional = false;
    f.serverEstablishedRetracted = true;
    s.state = 'SYN_RECEIVED';
    s.stateSinceT = f.provisionalSinceT;
    const i = f.provisionalIndex;
    f.provisionalIndex = -1;
    if (i >= 0) {
      this.removeTransition(f, i);
    } else if (f.transitionsOmitted > 0) {
      f.transitionsOmitted--;
    }
  }

  /**
   * Ends the provisional (or retracted) server ESTABLISHED once the server shows it accepted the
   * handshake: it sends payload or a FIN, or acknowledges client data (an ACK past the client's
   * ISN + 1). A Linux request socket (SYN_RECEIVED) never does either; it only resends SYN-ACKs,
   * and answers out-of-window segments with a bare ACK of ISN + 1, which is therefore not taken as
   * evidence. After a retraction the server becomes ESTABLISHED again, inferred, at this segment.
   */
  private confirmServerEstablished(
    f: FlowState,
    seg: TcpSegment,
    frame: number,
    tsSec: number,
    tsNanos: number,
  ): void {
    const c = f.client;
    const accepted =
      seg.payloadLength > 0 ||
      (seg.flags & TCP_FIN) !== 0 ||
      ((seg.flags & TCP_ACK) !== 0 && c.synSent && seqGt(seg.ack, (c.isn + 1) >>> 0));
    if (!accepted) return;
    f.serverEstablishedProvisional = false;
    f.provisionalIndex = -1;
    if (f.serverEstablishedRetracted) {
      f.serverEstablishedRetracted = false;
      if (f.server.state === 'SYN_RECEIVED') {
        this.apply(f, f.server, false, 'own_syn_acked', frame, tsSec, tsNanos, true);
      }
    }
  }

  /** Removes the packed transition at offset `i` of `f.transitions` (keeps the order of the others). */
  private removeTransition(f: FlowState, i: number): void {
    f.transitions.copyWithin(i, i + TRANSITION_FIELDS, f.transitionsLength);
    f.transitionsLength -= TRANSITION_FIELDS;
  }

  private handleRst(
    f: FlowState,
    snd: EndpointTrack,
    rcv: EndpointTrack,
    fromClient: boolean,
    seg: TcpSegment,
    seqKnownBefore: boolean,
    sndNxtBefore: number,
    frame: number,
    tsSec: number,
    tsNanos: number,
  ): void {
    if (fromClient) f.counts.rstClient++;
    else f.counts.rstServer++;
    snd.rstSent = true;
    this.apply(f, snd, fromClient, 'send_rst', frame, tsSec, tsNanos, false);
    if (rcv.state === 'CLOSED') return;
    if (this.rstInWindow(snd, rcv, seg, seqKnownBefore, sndNxtBefore)) {
      this.apply(f, rcv, !fromClient, 'rst_received', frame, tsSec, tsNanos, false);
    } else {
      this.weird('rst_out_of_window', f);
    }
  }

  /**
   * Whether the receiver would accept this RST (RFC 9293 §3.10.7): in SYN_SENT when it
   * acknowledges the SYN; otherwise when its sequence number is the sender's next sequence
   * number or lies inside the receiver's last advertised window. When we know too little about
   * the sender's sequence space we accept it.
   */
  private rstInWindow(
    snd: EndpointTrack,
    rcv: EndpointTrack,
    seg: TcpSegment,
    seqKnownBefore: boolean,
    sndNxtBefore: number,
  ): boolean {
    if (rcv.state === 'SYN_SENT') {
      return (seg.flags & TCP_ACK) === 0 || seg.ack === ((rcv.isn + 1) >>> 0);
    }
    if (!seqKnownBefore) return true;
    if (seg.seq === sndNxtBefore) return true;
    const rcvNxt = rcv.ackValid ? rcv.lastAck : sndNxtBefore;
    const scale = rcv.windowScale >= 0 && snd.windowScale >= 0 ? rcv.windowScale : 0;
    const window = Math.max(rcv.lastWindow * 2 ** scale, 1);
    const d = seqDiff(seg.seq, rcvNxt);
    return d >= 0 && d < window;
  }

  /** Stores a segment sample: the first `maxHeadSamples`, then a ring of the last `maxTailSamples`. */
  private sample(
    f: FlowState,
    frame: number,
    tsSec: number,
    tsNanos: number,
    fromClient: boolean,
    flags: number,
    seq: number,
    ackNumber: number,
    len: number,
    window: number,
    retx: number,
  ): void {
    const o = this.options;
    let arr: Float64Array;
    let at: number;
    const headNumbers = o.maxHeadSamples * SAMPLE_FIELDS;
    if (f.samplesLength < headNumbers) {
      at = f.samplesLength;
      // Tripled up to the head's size, never past it: a flow's outgrown arrays wait in the slabs
      // for flows of their size, and when many long connections grow at once (a busy server's
      // capture) no flow asks for them again (doubling 2 → 64 samples left 60 behind per flow).
      if (at + SAMPLE_FIELDS > f.samples.length) {
        f.samples = this.slabs.resize(f.samples, at, Math.min(headNumbers, 3 * f.samples.length));
      }
      arr = f.samples;
      f.samplesLength = at + SAMPLE_FIELDS;
    } else {
      if (o.maxTailSamples <= 0) {
        f.tailCount++;
        return;
      }
      if (f.tail === null) f.tail = this.slabs.take(o.maxTailSamples * SAMPLE_FIELDS);
      arr = f.tail;
      at = (f.tailCount % o.maxTailSamples) * SAMPLE_FIELDS;
      f.tailCount++;
    }
    arr[at] = frame;
    arr[at + 1] = tsSec;
    arr[at + 2] = packSampleWord(tsNanos, flags, retx, fromClient);
    arr[at + 3] = seq;
    arr[at + 4] = ackNumber;
    arr[at + 5] = packSampleLength(len, window);
  }
}
