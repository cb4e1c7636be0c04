/**
 * Aggregates shared by several detectors, computed once per {@link DetectorInput} in one pass over
 * its flows and memoised on it (a WeakMap keyed by the input's flows array, so nothing outlives the
 * run): the listeners (per server `ip:port`), the capture's last flow time, and candidate lists.
 *
 * Why candidate lists: most flows of a busy capture are routine (complete handshake, FIN close, no
 * retransmission or RST) and no detector can fire on them, while a detector that walks every flow
 * with closures, strings and small arrays costs microseconds per flow. Each list holds the flows
 * that meet a cheap necessary condition of some detectors (a counter above zero, a handshake
 * outcome, segment samples present); a detector walks its list instead of all flows, and its own
 * match logic then decides exactly as before. A detector whose options make the condition
 * unnecessary (a threshold below 1) walks all flows.
 */
import type { Endpoint, FlowRecord, Transition } from '../tcp/types.ts';
import type { DetectorInput } from './types.ts';
import { isProbe } from './port-scan.ts';
import { endpointText } from './util.ts';
import { majorityVantage } from './vantage.ts';
import type { Vantage } from './vantage.ts';

/** One service (`server ip:port`) as the capture saw it. */
export interface ListenerAggregate {
  /** `ip:port` text. */
  readonly endpoint: string;
  /** The server endpoint of its flows (that of the first one). */
  readonly server: Endpoint;
  /** Its flows, in id order. */
  readonly flows: readonly FlowRecord[];
  /** Connections whose SYN the listener answered with a SYN-ACK (it was listening and had room). */
  readonly answered: number;
  /** Connections whose SYN got neither SYN-ACK nor RST. */
  readonly unanswered: number;
  /** Connections with a SYN-ACK but never the client's final ACK. */
  readonly halfOpen: number;
  /** Majority vantage point over the listener's flows (computed on first read). */
  readonly vantage: Vantage;
}

/** A listener being built; `vantage` is computed on first read (most listeners never need it). */
class Listener implements ListenerAggregate {
  readonly flows: FlowRecord[] = [];
  answered = 0;
  unanswered = 0;
  halfOpen = 0;
  private majority: Vantage | undefined;
  /** Active closes, see {@link ActiveCloses}. */
  readonly closes: {
    byServer: number[];
    byServerFin: Transition[];
    byServerDuration: number[];
    byClient: number[];
    byClientFin: Transition[];
    byClientDuration: number[];
    byClientBucket: number[];
  } = { byServer: [], byServerFin: [], byServerDuration: [], byClient: [], byClientFin: [], byClientDuration: [], byClientBucket: [] };

  constructor(
    readonly endpoint: string,
    readonly server: Endpoint,
  ) {}

  get vantage(): Vantage {
    if (this.majority === undefined) this.majority = majorityVantage(this.flows);
    return this.majority;
  }
}

/**
 * The flows of one listener with a FIN counted (`finClient + finServer > 0`) and a FIN_WAIT_1
 * transition, split by the side of the first one in time (the first of equal times): the active
 * closer of `time-wait-churn`. Positions in `input.flows`, ascending, each with that transition.
 */
export interface ActiveCloses {
  readonly byServer: readonly number[];
  readonly byServerFin: readonly Transition[];
  readonly byClient: readonly number[];
  readonly byClientFin: readonly Transition[];
  /** Each flow's `durationSeconds`, read while its record is at hand. */
  readonly byServerDuration: readonly number[];
  readonly byClientDuration: readonly number[];
  /**
   * {@link addressBucket} of each flow's client address: all flows of one address share a bucket,
   * so a bucket counts at least the flows of each address in it.
   */
  readonly byClientBucket: readonly number[];
}

/** Number of {@link addressBucket} values. */
export const ADDRESS_BUCKETS = 4096;

/** A bucket of an address text from its length and last three characters (cheap; collisions only merge counts). */
export function addressBucket(ip: string): number {
  const n = ip.length;
  return (((n * 131 + ip.charCodeAt(n - 1)) * 131 + ip.charCodeAt(n - 2)) * 131 + ip.charCodeAt(n - 3)) & (ADDRESS_BUCKETS - 1);
}

/** What one pass over the flows tells every detector. All lists keep the flows' order. */
export interface FlowIndex {
  /** Listeners in order of their first flow, by `ip:port` text. */
  readonly listeners: ReadonlyMap<string, ListenerAggregate>;
  /** Per listener (same order as `listeners`), its flows' active closes. */
  readonly closes: readonly ActiveCloses[];
  /** Latest `endSeconds` of any flow (0 without flows). */
  readonly lastFlowSeconds: number;
  /** Flows with at least one segment sample (every segment-based match needs one). */
  readonly sampled: readonly FlowRecord[];
  /** Flows with a RST counted from either side. */
  readonly reset: readonly FlowRecord[];
  /** Flows with a SYN, SYN-ACK or FIN retransmission counted (each list: counter ≥ 1). */
  readonly synRetransmitted: readonly FlowRecord[];
  readonly synAckRetransmitted: readonly FlowRecord[];
  readonly finRetransmitted: readonly FlowRecord[];
  /** Flows with `handshake` 'no_synack', and 'refused'. */
  readonly noSynAck: readonly FlowRecord[];
  readonly refused: readonly FlowRecord[];
  /** Flows with a `previous` incarnation. */
  readonly reincarnated: readonly FlowRecord[];
  /** Flows that ended with unacknowledged bytes on either side. */
  readonly unacked: readonly FlowRecord[];
  /**
   * Flows where a side may have been left in CLOSE_WAIT: a final state CLOSE_WAIT, or a
   * transition CLOSE_WAIT → CLOSED (a normal passive close goes CLOSE_WAIT → LAST_ACK).
   */
  readonly closeWaitCandidates: readonly FlowRecord[];
  /** Flows that look like a scan's probe ({@link isProbe}). */
  readonly probes: readonly FlowRecord[];
}

const cache = new WeakMap<readonly FlowRecord[], FlowIndex>();
/** Listeners by server ip, then port, per input (built with the index). */
const byServerIp = new WeakMap<readonly FlowRecord[], Map<string, Map<number, ListenerAggregate>>>();

/** Server-side key of a flow. */
export function listenerKey(flow: FlowRecord): string {
  return endpointText(flow.server);
}


/** The shared index of an input: one pass over its flows, memoised per input. */
export function flowIndex(input: DetectorInput): FlowIndex {
  const hit = cache.get(input.flows);
  if (hit) return hit;
  const flows = input.flows;
  // Listeners by server ip, then port: no string is built per flow (address texts are interned).
  const byIp = new Map<string, Map<number, ListenerAggregate>>();
  const listeners = new Map<string, ListenerAggregate>();
  const built: Listener[] = [];
  let lastFlowSeconds = 0;
  const sampled: FlowRecord[] = [];
  const reset: FlowRecord[] = [];
  const synRetransmitted: FlowRecord[] = [];
  const synAckRetransmitted: FlowRecord[] = [];
  const finRetransmitted: FlowRecord[] = [];
  const noSynAck: FlowRecord[] = [];
  const refused: FlowRecord[] = [];
  const reincarnated: FlowRecord[] = [];
  const unacked: FlowRecord[] = [];
  const closeWaitCandidates: FlowRecord[] = [];
  const probes: FlowRecord[] = [];
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i]!;
    const server = f.server;
    let ports = byIp.get(server.ip);
    if (ports === undefined) {
      ports = new Map();
      byIp.set(server.ip, ports);
    }
    let listener = ports.get(server.port) as Listener | undefined;
    if (listener === undefined) {
      listener = new Listener(endpointText(server), server);
      ports.set(server.port, listener);
      listeners.set(listener.endpoint, listener);
      built.push(listener);
    }
    listener.flows.push(f);
    const counts = f.counts;
    const handshake = f.handshake;
    if (counts.synAck > 0) listener.answered++;
    if (handshake === 'no_synack') {
      listener.unanswered++;
      noSynAck.push(f);
    } else if (handshake === 'half_open') listener.halfOpen++;
    else if (handshake === 'refused') refused.push(f);
    if (f.endSeconds > lastFlowSeconds) lastFlowSeconds = f.endSeconds;
    if (f.segments.length > 0) sampled.push(f);
    if (counts.rstClient + counts.rstServer > 0) reset.push(f);
    if (counts.synRetransmissions >= 1) synRetransmitted.push(f);
    if (counts.synAckRetransmissions >= 1) synAckRetransmitted.push(f);
    if (counts.finRetransmissions >= 1) finRetransmitted.push(f);
    if (f.previous !== undefined) reincarnated.push(f);
    if (f.unackedBytesAtEnd.client > 0 || f.unackedBytesAtEnd.server > 0) unacked.push(f);
    // One walk over the transitions (separate objects: the costliest read of a flow).
    let closeWait = f.finalState.client === 'CLOSE_WAIT' || f.finalState.server === 'CLOSE_WAIT';
    let finWait: Transition | undefined;
    for (const t of f.transitions) {
      if (t.to === 'FIN_WAIT_1') {
        if (finWait === undefined || t.tSeconds < finWait.tSeconds) finWait = t;
      } else if (t.to === 'CLOSED' && t.from === 'CLOSE_WAIT') closeWait = true;
    }
    if (closeWait) closeWaitCandidates.push(f);
    if (finWait !== undefined && counts.finClient + counts.finServer > 0) {
      const closes = listener.closes;
      if (finWait.side === 'server') {
        closes.byServer.push(i);
        closes.byServerFin.push(finWait);
        closes.byServerDuration.push(f.durationSeconds);
      } else {
        closes.byClient.push(i);
        closes.byClientFin.push(finWait);
        closes.byClientDuration.push(f.durationSeconds);
        closes.byClientBucket.push(addressBucket(f.client.ip));
      }
    }
    if (isProbe(f)) probes.push(f);
  }
  const index: FlowIndex = {
    listeners,
    closes: built.map((l) => l.closes),
    lastFlowSeconds,
    sampled,
    reset,
    synRetransmitted,
    synAckRetransmitted,
    finRetransmitted,
    noSynAck,
    refused,
    reincarnated,
    unacked,
    closeWaitCandidates,
    probes,
  };
  cache.set(input.flows, index);
  byServerIp.set(input.flows, byIp);
  return index;
}

/** Aggregates per listener, in order of the listener's first flow. Memoised per input. */
export function listenerAggregates(input: DetectorInput): ReadonlyMap<string, ListenerAggregate> {
  return flowIndex(input).listeners;
}

/** The listener of a flow of `input` (two map lookups, no string built); undefined for a foreign flow. */
export function listenerOf(input: DetectorInput, flow: FlowRecord): ListenerAggregate | undefined {
  flowIndex(input);
  return byServerIp.get(input.flows)?.get(flow.server.ip)?.get(flow.server.port);
}

/**
 * Groups items by the listener of their flow, keyed by its `ip:port` text, keeping first-seen
 * order of listeners and item order: `groupBy(items, (x) => listenerKey(flowOf(x)))` without
 * building a string per item.
 */
export function groupByListener<T>(input: DetectorInput, items: readonly T[], flowOf: (item: T) => FlowRecord): Map<string, T[]> {
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
