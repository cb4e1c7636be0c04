/**
 * The shared pre-pass of the diagnose stage: ONE walk over the input's {@link FlowList}, memoised
 * per list for one diagnosis (a WeakMap keyed by the list object; `runDetectors` drops the entry
 * when it ends, see {@link forgetFlowIndex}), that tells every detector, the capture-quality check
 * and the port-scan grouping what they need.
 *
 * Why one pass, and why it keeps so little: the list may be the compact flow store, which builds a
 * {@link FlowRecord} on every access (a few µs each, see `FlowList` in tcp/types.ts) and would cost
 * gigabytes if all records were held. So:
 * - this pass is the only walk over the whole list a diagnosis with default thresholds makes;
 *   nothing else in src/diagnose iterates `input.flows`, except a detector whose threshold is
 *   below 1 (every flow then is a candidate of it);
 * - of every flow it keeps only numbers, in typed-array columns indexed by the flow's position
 *   (0-based place in the list, id order): {@link FlowColumns}, 57 bytes per flow with the
 *   listeners' position lists. No text: a client address is kept as a hash, and the rare reader
 *   that needs the exact text of a non-candidate flow (a port scan's source, a TIME_WAIT-churn
 *   client) fetches the records at the positions whose hash matches: the evidence of a finding;
 * - it keeps the positions of candidates: flows that meet a cheap necessary condition of some
 *   detector's match (a counter above zero, a handshake outcome, a sampled keepalive probe ...).
 *   Most flows of a busy capture are routine (complete handshake, FIN close, no retransmission or
 *   RST), no detector can fire on them, and they are in no list. It keeps no record: a storm
 *   (resets, refusals, reuses, leaks, half-open connections) can make every connection a
 *   candidate, and holding their records took ~2.7 KB each (1.1 GB for 260,000 connections).
 *   A detector builds the records of its candidates one at a time ({@link flowsAt}) and keeps a
 *   few facts of each match (ids, endpoints, evidence frames and instants), never the record;
 * - listeners hold counts and positions, not records;
 * - a detector that needs the record of a non-candidate flow (the first connection of a
 *   TIME_WAIT-churn group, say) fetches it with `input.flows.at(position)`.
 *
 * Each candidate list keeps the flows' order. A detector walks its list instead of all flows, and
 * its own match logic then decides exactly as before, so findings do not depend on the lists.
 */
import type { Endpoint, FlowList, FlowRecord, FlowSummary, TransitionCore } from '../tcp/types.ts';
import { addressKeyWord, clientAddressKey, sampledSegmentCount, scanFlows } from '../tcp/flow-summary.ts';
import type { DetectorInput } from './types.ts';
import { hasDataAfterFin } from './half-close.ts';
import { hasKeepaliveSample } from './keepalive-timeout.ts';
import { isProbe } from './port-scan.ts';
import { isOneWayFlow } from './quality.ts';
import { endpointText } from './util.ts';
import { majorityOfVotes, vantageOf } from './vantage.ts';
import type { Vantage } from './vantage.ts';

/** One service (`server ip:port`) as the capture saw it: counts and positions, never records. */
export interface ListenerAggregate {
  /** `ip:port` text. */
  readonly endpoint: string;
  /** The server endpoint of its flows (a copy of that of the first one). */
  readonly server: Endpoint;
  /** 0-based rank in {@link FlowIndex.listeners} order; the value of {@link FlowColumns.listener}. */
  readonly rank: number;
  /** Number of its flows. */
  readonly flowCount: number;
  /** Positions of its flows in the input's list, ascending (id order). A view: do not write. */
  readonly positions: Int32Array;
  /** Connections whose SYN the listener answered with a SYN-ACK (it was listening and had room). */
  readonly answered: number;
  /** Connections whose SYN got neither SYN-ACK nor RST. */
  readonly unanswered: number;
  /** Connections with a SYN-ACK but never the client's final ACK. */
  readonly halfOpen: number;
  /** Majority vantage point over the listener's flows (`majorityVantage` of them, from counts). */
  readonly vantage: Vantage;
}

const NO_POSITIONS = new Int32Array(0);

/** A listener being built by the pass. */
class Listener implements ListenerAggregate {
  flowCount = 0;
  answered = 0;
  unanswered = 0;
  halfOpen = 0;
  /** Flows whose {@link vantageOf} is the client, and the server: the votes of the majority. */
  clientVantageVotes = 0;
  serverVantageVotes = 0;
  positions: Int32Array = NO_POSITIONS;

  constructor(
    readonly endpoint: string,
    readonly server: Endpoint,
    readonly rank: number,
  ) {}

  get vantage(): Vantage {
    return majorityOfVotes(this.clientVantageVotes, this.serverVantageVotes);
  }
}

/** {@link FlowColumns.flags} bit: handshake 'complete' or server data seen (a connection that got through, for `accept-overflow-rst`). */
export const FLOW_GOT_THROUGH = 1;
/**
 * {@link FlowColumns.flags} bit: an active close, i.e. a FIN counted (`finClient + finServer > 0`)
 * and a FIN_WAIT_1 transition (for `time-wait-churn`). The first such transition in time (the first
 * of equal times) names the active closer; its time and frame are in the `activeClose…` columns.
 */
export const FLOW_ACTIVE_CLOSE = 2;
/** {@link FlowColumns.flags} bit, with {@link FLOW_ACTIVE_CLOSE}: the active closer is the server. */
export const FLOW_CLOSED_BY_SERVER = 4;

/**
 * Per-flow numbers, indexed by position in the input's list (id order). 53 bytes per flow. Typed
 * arrays of `length` entries allocated once: no per-flow object, nothing for the garbage collector
 * to trace. Their backing stores are outside the JS heap, and V8 starts a full collection after
 * about 64 MB of such allocations (costly when the heap holds the records of an array input: half
 * a second with 436 000 records): the columns take 23 MB for 436 000 flows, so nothing here may add
 * per-flow tables on top (see `addressHash` (tcp/flow-summary.ts)). Written by the pass only; readers must not write.
 */
export interface FlowColumns {
  /** The flow's `id`. */
  readonly id: Float64Array;
  readonly startSeconds: Float64Array;
  /** {@link ListenerAggregate.rank} of the flow's listener. */
  readonly listener: Int32Array;
  /**
   * `addressHash` (tcp/flow-summary.ts) of the flow's client address. Equal texts have equal hashes; equal hashes
   * are equal texts only almost always, so a reader checks the text of the records it groups.
   */
  readonly clientAddressHash: Int32Array;
  readonly clientPort: Int32Array;
  /** FLOW_* bits. */
  readonly flags: Uint8Array;
  /** With {@link FLOW_ACTIVE_CLOSE}: `tSeconds` and `frame` of the active closer's FIN_WAIT_1 transition, and the flow's `durationSeconds`; 0 otherwise. */
  readonly activeCloseSeconds: Float64Array;
  readonly activeCloseFrame: Float64Array;
  readonly durationSeconds: Float64Array;
}

/** What `port-scan` needs of a probe ({@link isProbe}): numbers and interned text, no record. */
export interface Probe {
  readonly id: number;
  /** Its position in the input's list (for the ISO text of its start, fetched for a few). */
  readonly position: number;
  readonly client: { readonly ip: string };
  readonly server: Endpoint;
  readonly startSeconds: number;
  readonly firstFrame: number;
  readonly handshake: FlowRecord['handshake'];
}

/** What one pass over the flows tells every detector. All lists keep the flows' order. */
export interface FlowIndex {
  /** Listeners in order of their first flow, by `ip:port` text. */
  readonly listeners: ReadonlyMap<string, ListenerAggregate>;
  readonly columns: FlowColumns;
  /** Latest `endSeconds` of any flow (0 without flows). */
  readonly lastFlowSeconds: number;
  /** Flows whose handshake was not captured (`handshake` 'not_seen'), for capture quality. */
  readonly startedMidConnection: number;
  /** Flows captured in one direction only ({@link isOneWayFlow}), for capture quality. */
  readonly oneWay: number;
  /**
   * Positions of the flows with at least one segment sample (every segment-based match needs
   * one). Positions, not records: only a detector run with a threshold below 1 reads them all.
   */
  readonly sampledPositions: Int32Array;
  /**
   * Positions of the flows with a RST counted from either side, but refused ones (`reset` leaves
   * those to `connection-refused`). Positions, not records: a reset storm can hold every
   * connection, and the detectors keep a few facts of each match instead.
   */
  readonly resetPositions: Int32Array;
  /**
   * Positions of the flows that may show an accept-queue overflow RST: a RST from the server, no
   * server data, handshake 'complete' or 'reset_after_ack' (the cheap part of matchOverflowReset).
   */
  readonly overflowRstPositions: Int32Array;
  /** Positions of the flows with a SYN, SYN-ACK or FIN retransmission counted (each list: counter ≥ 1). */
  readonly synRetransmittedPositions: Int32Array;
  readonly synAckRetransmittedPositions: Int32Array;
  readonly finRetransmittedPositions: Int32Array;
  /**
   * Positions of the flows with `handshake` 'no_synack', and of those with 'refused'. Positions,
   * not records, in every list a storm can fill (unanswered SYNs, refusals, resets, reuses,
   * leaks): the detectors build records one at a time and keep a few facts of each match.
   */
  readonly noSynAckPositions: Int32Array;
  readonly refusedPositions: Int32Array;
  /** Positions of the flows with `handshake` 'half_open' or 'no_synack' (the half-open connections of `syn-flood`). */
  readonly halfOpenPositions: Int32Array;
  /**
   * Positions of the flows with a `previous` incarnation that ended with a side in TIME_WAIT
   * (`tuple-reuse`). Positions, not records: a capture can reuse tuples by the hundred thousand,
   * and the detector keeps a few facts of each instead of its record.
   */
  readonly reincarnatedPositions: Int32Array;
  /** Positions of the flows that ended with unacknowledged bytes on either side. */
  readonly unackedPositions: Int32Array;
  /**
   * Positions of the flows where a side may have been left in CLOSE_WAIT: a final state
   * CLOSE_WAIT, or a transition CLOSE_WAIT → CLOSED (a normal passive close goes CLOSE_WAIT →
   * LAST_ACK). Positions: a leak can hold every connection, and the detector keeps a few facts.
   */
  readonly closeWaitPositions: Int32Array;
  /**
   * The flows that look like a scan's probe ({@link isProbe}), as the few facts `port-scan`
   * reports (a scan can probe a whole network: no record is built for them), and their positions.
   */
  readonly probes: readonly Probe[];
  readonly probePositions: Int32Array;
  /** Positions of the flows with a sampled keepalive probe ({@link hasKeepaliveSample}). */
  readonly keepaliveProbedPositions: Int32Array;
  /** Positions of the flows whose samples show data sent after the other side's first FIN ({@link hasDataAfterFin}). */
  readonly halfClosedPositions: Int32Array;
}

/**
 * The {@link FlowColumns.clientAddressHash} of a flow: its IPv4 address itself (as int32) when the
 * list gives it as a number, otherwise `addressHash` (tcp/flow-summary.ts) of the text. Which one a flow gets
 * depends on the list, so hashes are compared only within one index (port-scan takes its sources'
 * hashes from the column, never from their text).
 */
function clientAddressHash(flow: FlowSummary): number {
  return addressKeyWord(clientAddressKey(flow));
}

const cache = new WeakMap<FlowList, FlowIndex>();
/** Listeners by server ip, then port, per input (built with the index). */
const byServerIp = new WeakMap<FlowList, Map<string, Map<number, ListenerAggregate>>>();

/** Server-side key of a flow. */
export function listenerKey(flow: Pick<FlowRecord, 'server'>): string {
  return endpointText(flow.server);
}

/**
 * The shared index of an input: one `for … of` over its flows, memoised per list. A flow's
 * position is its place in that iteration, which the FlowList contract makes its `at()` index;
 * throws when the list yields another number of flows than its `length`.
 */
export function flowIndex(input: DetectorInput): FlowIndex {
  const flows = input.flows;
  const hit = cache.get(flows);
  if (hit) return hit;
  const n = flows.length;
  const columns: FlowColumns = {
    id: new Float64Array(n),
    startSeconds: new Float64Array(n),
    listener: new Int32Array(n),
    clientAddressHash: new Int32Array(n),
    clientPort: new Int32Array(n),
    flags: new Uint8Array(n),
    activeCloseSeconds: new Float64Array(n),
    activeCloseFrame: new Float64Array(n),
    durationSeconds: new Float64Array(n),
  };
  // Listeners by server ip, then port: no string is built per flow.
  const byIp = new Map<string, Map<number, ListenerAggregate>>();
  const listeners = new Map<string, ListenerAggregate>();
  const built: Listener[] = [];
  let lastFlowSeconds = 0;
  let startedMidConnection = 0;
  let oneWay = 0;
  const sampled: number[] = [];
  const reset: number[] = [];
  const overflowRst: number[] = [];
  const synRetransmitted: number[] = [];
  const synAckRetransmitted: number[] = [];
  const finRetransmitted: number[] = [];
  const noSynAck: number[] = [];
  const refused: number[] = [];
  const halfOpen: number[] = [];
  const reincarnated: number[] = [];
  const unacked: number[] = [];
  const closeWaitCandidates: number[] = [];
  const probePositions: number[] = [];
  const probes: Probe[] = [];
  const keepaliveProbed: number[] = [];
  const halfClosed: number[] = [];
  let p = 0;
  scanFlows(flows, (f, position) => {
    // The columns are sized by `length`: a list that yields more breaks the FlowList contract.
    if (p >= n) throw new Error(`flow list yielded more than its length (${n}) flows`);
    if (position !== p) throw new Error(`flow list scan gave position ${position} for flow ${p}`);
    const server = f.server;
    let ports = byIp.get(server.ip);
    if (ports === undefined) {
      ports = new Map();
      byIp.set(server.ip, ports);
    }
    let listener = ports.get(server.port) as Listener | undefined;
    if (listener === undefined) {
      listener = new Listener(endpointText(server), { ip: server.ip, port: server.port }, built.length);
      ports.set(server.port, listener);
      listeners.set(listener.endpoint, listener);
      built.push(listener);
    }
    listener.flowCount++;
    // The listener's majority vantage point, from votes: its flows are not kept.
    const vantage = vantageOf(f);
    if (vantage === 'client') listener.clientVantageVotes++;
    else if (vantage === 'server') listener.serverVantageVotes++;
    const counts = f.counts;
    const handshake = f.handshake;
    if (counts.synAck > 0) listener.answered++;
    if (handshake === 'no_synack') {
      listener.unanswered++;
      noSynAck.push(p);
      halfOpen.push(p);
    } else if (handshake === 'half_open') {
      listener.halfOpen++;
      halfOpen.push(p);
    } else if (handshake === 'refused') refused.push(p);
    else if (handshake === 'not_seen') startedMidConnection++;
    // Capture quality's counts (it used to walk the flows itself).
    if (isOneWayFlow(f)) oneWay++;
    if (f.endSeconds > lastFlowSeconds) lastFlowSeconds = f.endSeconds;
    // Samples are decoded only for flows whose counters allow a match: a sampled keepalive probe
    // was counted as one, and a sampled FIN (FIN flag, with or without RST) was counted as a FIN
    // or a RST segment of its sender.
    if (sampledSegmentCount(f) > 0) {
      sampled.push(p);
      if (counts.keepaliveProbes > 0 && hasKeepaliveSample(f)) keepaliveProbed.push(p);
      if (counts.finClient + counts.finServer + counts.rstClient + counts.rstServer > 0 && hasDataAfterFin(f)) {
        halfClosed.push(p);
      }
    }
    if (counts.rstClient + counts.rstServer > 0 && handshake !== 'refused') reset.push(p);
    if (counts.rstServer > 0 && counts.dataBytesServer === 0 && (handshake === 'complete' || handshake === 'reset_after_ack')) overflowRst.push(p);
    if (counts.synRetransmissions >= 1) synRetransmitted.push(p);
    if (counts.synAckRetransmissions >= 1) synAckRetransmitted.push(p);
    if (counts.finRetransmissions >= 1) finRetransmitted.push(p);
    const previous = f.previous;
    if (previous !== undefined && (previous.finalState.client === 'TIME_WAIT' || previous.finalState.server === 'TIME_WAIT')) {
      reincarnated.push(p);
    }
    if (f.unackedBytesAtEnd.client > 0 || f.unackedBytesAtEnd.server > 0) unacked.push(p);
    // One walk over the transitions (separate objects: the costliest read of a flow).
    let closeWait = f.finalState.client === 'CLOSE_WAIT' || f.finalState.server === 'CLOSE_WAIT';
    let finWait: TransitionCore | undefined;
    for (const t of f.transitions) {
      if (t.to === 'FIN_WAIT_1') {
        if (finWait === undefined || t.tSeconds < finWait.tSeconds) finWait = t;
      } else if (t.to === 'CLOSED' && t.from === 'CLOSE_WAIT') closeWait = true;
    }
    if (closeWait) closeWaitCandidates.push(p);
    if (isProbe(f)) {
      probes.push({ id: f.id, position: p, client: { ip: f.client.ip }, server: { ip: f.server.ip, port: f.server.port }, startSeconds: f.startSeconds, firstFrame: f.firstFrame, handshake: f.handshake });
      probePositions.push(p);
    }
    let flags = handshake === 'complete' || counts.dataBytesServer > 0 ? FLOW_GOT_THROUGH : 0;
    if (finWait !== undefined && counts.finClient + counts.finServer > 0) {
      flags |= finWait.side === 'server' ? FLOW_ACTIVE_CLOSE | FLOW_CLOSED_BY_SERVER : FLOW_ACTIVE_CLOSE;
      columns.activeCloseSeconds[p] = finWait.tSeconds;
      columns.activeCloseFrame[p] = finWait.frame;
      columns.durationSeconds[p] = f.durationSeconds;
    }
    columns.flags[p] = flags;
    columns.id[p] = f.id;
    columns.startSeconds[p] = f.startSeconds;
    columns.listener[p] = listener.rank;
    const client = f.client;
    columns.clientAddressHash[p] = clientAddressHash(f);
    columns.clientPort[p] = client.port;
    p++;
  });
  if (p !== n) throw new Error(`flow list yielded ${p} flows, its length is ${n}`);
  // Each listener's positions: one Int32Array for all, in listener order (counting sort by rank).
  const offsets = new Int32Array(built.length + 1);
  for (const l of built) offsets[l.rank + 1] = offsets[l.rank]! + l.flowCount;
  const positions = new Int32Array(n);
  const next = offsets.slice(0, built.length);
  for (let q = 0; q < n; q++) positions[next[columns.listener[q]!]!++] = q;
  for (const l of built) l.positions = positions.subarray(offsets[l.rank]!, offsets[l.rank + 1]!);
  const index: FlowIndex = {
    listeners,
    columns,
    lastFlowSeconds,
    startedMidConnection,
    oneWay,
    sampledPositions: Int32Array.from(sampled),
    resetPositions: Int32Array.from(reset),
    overflowRstPositions: Int32Array.from(overflowRst),
    synRetransmittedPositions: Int32Array.from(synRetransmitted),
    synAckRetransmittedPositions: Int32Array.from(synAckRetransmitted),
    finRetransmittedPositions: Int32Array.from(finRetransmitted),
    noSynAckPositions: Int32Array.from(noSynAck),
    refusedPositions: Int32Array.from(refused),
    halfOpenPositions: Int32Array.from(halfOpen),
    reincarnatedPositions: Int32Array.from(reincarnated),
    unackedPositions: Int32Array.from(unacked),
    closeWaitPositions: Int32Array.from(closeWaitCandidates),
    probes,
    probePositions: Int32Array.from(probePositions),
    keepaliveProbedPositions: Int32Array.from(keepaliveProbed),
    halfClosedPositions: Int32Array.from(halfClosed),
  };
  cache.set(flows, index);
  byServerIp.set(flows, byIp);
  return index;
}

/**
 * Drops the memoised index of a list. `runDetectors` calls it when a diagnosis ends: the flow
 * store outlives the diagnosis (the report reads it again), and the index (columns, candidate
 * records) must not live as long as it.
 */
export function forgetFlowIndex(flows: FlowList): void {
  cache.delete(flows);
  byServerIp.delete(flows);
}

/** Aggregates per listener, in order of the listener's first flow. Memoised per input. */
export function listenerAggregates(input: DetectorInput): ReadonlyMap<string, ListenerAggregate> {
  return flowIndex(input).listeners;
}

/** The listener of a flow of `input` (two map lookups, no string built); undefined for a foreign flow. */
export function listenerOf(input: DetectorInput, flow: Pick<FlowRecord, 'server'>): ListenerAggregate | undefined {
  flowIndex(input);
  return byServerIp.get(input.flows)?.get(flow.server.ip)?.get(flow.server.port);
}

/**
 * Groups items by the listener of their flow, keyed by its `ip:port` text, keeping first-seen
 * order of listeners and item order: `groupBy(items, (x) => listenerKey(flowOf(x)))` without
 * building a string per item.
 */
export function groupByListener<T>(input: DetectorInput, items: readonly T[], flowOf: (item: T) => Pick<FlowRecord, 'server'>): Map<string, T[]> {
  const groups = new Map<ListenerAggregate | string, T[]>();
  for (const item of items) {
    const flow = flowOf(item);
    // A flow that is not in the input (never in practice) is keyed by its text.
    const l = listenerOf(input, flow) ?? listenerKey(flow);
    const list = groups.get(l);
    if (list) list.push(item);
    else groups.set(l, [item]);
  }
  const out = new Map<string, T[]>();
  for (const [l, list] of groups) out.set(typeof l === 'string' ? l : l.endpoint, list);
  return out;
}

/**
 * `positions` (ascending) grouped by their flow's listener ({@link ListenerAggregate.rank}), each
 * group ascending: the same groups as `groupByListener` over their records, without a record.
 */
export function positionsByListener(index: FlowIndex, positions: ArrayLike<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const rank = index.columns.listener;
  for (let k = 0; k < positions.length; k++) {
    const p = positions[k]!;
    const list = out.get(rank[p]!);
    if (list === undefined) out.set(rank[p]!, [p]);
    else list.push(p);
  }
  return out;
}

/**
 * The records at `positions` (ascending) of the input's list, built one at a time as the caller
 * walks them: for a detector that needs flows the pass kept only as positions.
 */
export function* flowsAt(input: DetectorInput, positions: ArrayLike<number>): Generator<FlowRecord> {
  for (let k = 0; k < positions.length; k++) {
    const flow = input.flows.at(positions[k]!);
    if (flow !== undefined) yield flow;
  }
}

/** The defined results of `match` over `candidates`, in order. */
export function matchFlows<T>(candidates: Iterable<FlowRecord>, match: (flow: FlowRecord) => T | undefined): T[] {
  const out: T[] = [];
  for (const f of candidates) {
    const m = match(f);
    if (m !== undefined) out.push(m);
  }
  return out;
}
