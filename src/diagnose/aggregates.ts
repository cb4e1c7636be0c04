/**
 * Per-listener aggregates shared by several detectors, computed once per {@link DetectorInput}
 * and memoised on it (a WeakMap keyed by the input's flows array, so nothing outlives the run).
 */
import type { FlowRecord } from '../tcp/types.ts';
import type { DetectorInput } from './types.ts';
import { endpointText } from './util.ts';
import { majorityVantage } from './vantage.ts';
import type { Vantage } from './vantage.ts';

/** One service (`server ip:port`) as the capture saw it. */
export interface ListenerAggregate {
  /** `ip:port` text. */
  readonly endpoint: string;
  /** Its flows, in id order. */
  readonly flows: readonly FlowRecord[];
  /** Connections whose SYN the listener answered with a SYN-ACK (it was listening and had room). */
  readonly answered: number;
  /** Connections whose SYN got neither SYN-ACK nor RST. */
  readonly unanswered: number;
  /** Connections with a SYN-ACK but never the client's final ACK. */
  readonly halfOpen: number;
  /** Majority vantage point over the listener's flows. */
  readonly vantage: Vantage;
}

const cache = new WeakMap<readonly FlowRecord[], Map<string, ListenerAggregate>>();

/** Server-side key of a flow. */
export function listenerKey(flow: FlowRecord): string {
  return endpointText(flow.server);
}

/** Aggregates per listener, in order of the listener's first flow. Memoised per input. */
export function listenerAggregates(input: DetectorInput): ReadonlyMap<string, ListenerAggregate> {
  const hit = cache.get(input.flows);
  if (hit) return hit;
  const groups = new Map<string, FlowRecord[]>();
  for (const f of input.flows) {
    const k = listenerKey(f);
    const list = groups.get(k);
    if (list) list.push(f);
    else groups.set(k, [f]);
  }
  const result = new Map<string, ListenerAggregate>();
  for (const [endpoint, flows] of groups) {
    let answered = 0;
    let unanswered = 0;
    let halfOpen = 0;
    for (const f of flows) {
      if (f.counts.synAck > 0) answered++;
      if (f.handshake === 'no_synack') unanswered++;
      if (f.handshake === 'half_open') halfOpen++;
    }
    result.set(endpoint, { endpoint, flows, answered, unanswered, halfOpen, vantage: majorityVantage(flows) });
  }
  cache.set(input.flows, result);
  return result;
}
