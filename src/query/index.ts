/**
 * Questions asked of a finished analysis: which flows match a filter, and what `netstat`/`ss`
 * would have shown on each host at a moment of the capture. Pure functions over FlowRecords.
 *
 * The flows arrive as a `FlowList`, whose records may be built on each access: every function
 * here makes one pass per call (or per iteration of {@link matchingFlows}) over the flows'
 * summaries (`scanFlows`), builds a record only for a flow it returns, and keeps no reference to
 * a record beyond the call, except {@link filterFlows}, which returns the matches it was asked for.
 */
import type { ConnState, FlowList, FlowRecord, FlowSummary, Side, TcpState } from '../tcp/types.ts';
import { recordAt, scanFlows } from '../tcp/flow-summary.ts';
import { parseAddress } from '../decode/address-parse.ts';
import { formatAddress } from '../decode/address-text.ts';

/** Filters of `tcpmortem flows`; every given criterion must hold. */
export interface FlowFilter {
  /** Matches when either side's final state is this one. */
  readonly state?: TcpState;
  /** Matches when either endpoint uses this port. */
  readonly port?: number;
  /** Matches when either endpoint has this address. */
  readonly host?: string;
  /** Matches Zeek's conn_state. */
  readonly connState?: string;
  /** Matches this VLAN key (see TcpSegment.vlanKey; -1: untagged). */
  readonly vlan?: number;
}

/** Every TcpState, in RFC 9293's order (UNKNOWN last): what `--state` accepts. */
export const TCP_STATE_NAMES: readonly TcpState[] = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2',
  'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT', 'UNKNOWN',
];

/** Every Zeek conn_state, in the order of Zeek's documentation: what `--conn-state` accepts. */
export const CONN_STATE_NAMES: readonly ConnState[] = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'];

/** A filter criterion given as text that names nothing a flow could match; the message says why. */
export class FlowFilterError extends Error {}

/**
 * The filter of criteria typed by a person (`tcpmortem flows --state close-wait --host ::1`),
 * checked and put in the form the flows use, so a typo is an error rather than an empty list:
 * - `state`: a TcpState in any case, `-` for `_` (`close-wait`, `CLOSE_WAIT`);
 * - `connState`: a Zeek conn_state in any case (`rej`);
 * - `port`: a whole number 0-65535;
 * - `host`: an IPv4 or IPv6 address, in any form (`[::1]`, `0:0::1`, upper-case hex), compared as
 *   the flows print it (RFC 5952; an IPv4-mapped IPv6 address as IPv4);
 * - `vlan`: a VLAN id 0-4095, outer/inner ids of two tags (`10/20`), or `none` for untagged.
 * @throws FlowFilterError naming the option, the value, and what it accepts.
 */
export function parseFlowFilter(text: {
  readonly state?: string | undefined;
  readonly connState?: string | undefined;
  readonly port?: number | string | undefined;
  readonly host?: string | undefined;
  readonly vlan?: string | undefined;
}): FlowFilter {
  const filter: { state?: TcpState; connState?: string; port?: number; host?: string; vlan?: number } = {};
  if (text.state !== undefined) {
    const name = text.state.trim().toUpperCase().replace(/-/g, '_');
    const state = TCP_STATE_NAMES.find((s) => s === name);
    if (state === undefined) throw new FlowFilterError(`--state ${text.state}: not a TCP state (one of ${TCP_STATE_NAMES.join(', ')})`);
    filter.state = state;
  }
  if (text.connState !== undefined) {
    const name = text.connState.trim().toUpperCase();
    const connState = CONN_STATE_NAMES.find((s) => s === name);
    if (connState === undefined) throw new FlowFilterError(`--conn-state ${text.connState}: not a Zeek conn_state (one of ${CONN_STATE_NAMES.join(', ')})`);
    filter.connState = connState;
  }
  if (text.port !== undefined) {
    const port = typeof text.port === 'number' ? text.port : text.port.trim() === '' ? Number.NaN : Number(text.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FlowFilterError(`--port ${String(text.port)}: not a port (a whole number from 0 to 65535)`);
    filter.port = port;
  }
  if (text.host !== undefined) {
    const bare = text.host.trim().replace(/^\[(.*)\]$/, '$1');
    let words: [number, number, number, number];
    try {
      words = parseAddress(bare);
    } catch {
      throw new FlowFilterError(`--host ${text.host}: not an IPv4 or IPv6 address`);
    }
    filter.host = formatAddress(...words);
  }
  if (text.vlan !== undefined) {
    const v = text.vlan.trim().toLowerCase();
    const m = /^(\d{1,4})(?:\/(\d{1,4}))?$/.exec(v);
    const outer = m === null ? Number.NaN : Number(m[1]);
    const inner = m?.[2] === undefined ? undefined : Number(m[2]);
    if (v === 'none') filter.vlan = -1;
    else if (m !== null && outer <= 4095 && (inner === undefined || inner <= 4095)) filter.vlan = inner === undefined ? outer : outer * 4096 + inner;
    else throw new FlowFilterError(`--vlan ${text.vlan}: not a VLAN (an id 0-4095, outer/inner ids such as 10/20, or none)`);
  }
  return filter;
}

/** Whether `flow` meets every criterion of `filter` (an empty filter matches every flow). */
export function flowMatches(flow: FlowSummary, filter: FlowFilter): boolean {
  return (
    (filter.state === undefined || flow.finalState.client === filter.state || flow.finalState.server === filter.state) &&
    (filter.port === undefined || flow.client.port === filter.port || flow.server.port === filter.port) &&
    (filter.host === undefined || flow.client.ip === filter.host || flow.server.ip === filter.host) &&
    (filter.connState === undefined || flow.connState === filter.connState) &&
    (filter.vlan === undefined || flow.vlan === filter.vlan)
  );
}

/**
 * Positions of the flows that match `filter`, in order: one pass over the summaries, no record
 * built. Building every record to test it was most of `tcpmortem flows --state X` on a large
 * capture (4 of its 7.5 s on the benchmark capture, for no match at all).
 */
function matchingPositions(flows: FlowList, filter: FlowFilter): number[] {
  const positions: number[] = [];
  scanFlows(flows, (flow, position) => {
    if (flowMatches(flow, filter)) positions.push(position);
  });
  return positions;
}

/**
 * The flows of `flows` that match `filter`, in order, as a lazy iterable: nothing is read until
 * it is iterated, each iteration is a new pass over `flows` (so it can be iterated twice, e.g. to
 * size table columns and then print), and no record is kept; records are built for the matches
 * only. For streaming outputs.
 */
export function matchingFlows(flows: FlowList, filter: FlowFilter): Iterable<FlowRecord> {
  return {
    *[Symbol.iterator](): Iterator<FlowRecord> {
      for (const position of matchingPositions(flows, filter)) yield recordAt(flows, position);
    },
  };
}

/**
 * The matching flows as an array, in order: one pass over `flows`. Holds every match, so with a
 * broad filter over a large list prefer {@link matchingFlows}.
 */
export function filterFlows(flows: FlowList, filter: FlowFilter): FlowRecord[] {
  return matchingPositions(flows, filter).map((position) => recordAt(flows, position));
}

/**
 * One side's state at an instant and when it entered it (the flow's start when no transition
 * says), or undefined when that side had no socket in this flow then. One walk serves both.
 */
function sideAt(flow: FlowSummary, side: Side, tSeconds: number): { state: TcpState; since: number } | undefined {
  let state: TcpState | undefined;
  let since = flow.startSeconds;
  for (const t of flow.transitions) {
    if (t.side !== side) continue;
    if (t.tSeconds > tSeconds) break;
    state = t.to;
    since = t.tSeconds;
  }
  // Transitions are capped per flow; past the cap the final state is the best knowledge.
  if (flow.transitionsOmitted > 0 && tSeconds >= flow.endSeconds) state = flow.finalState[side];
  return state === undefined ? undefined : { state, since };
}

/** One side's state at an instant, or undefined when that side had no socket in this flow then. */
export function stateAt(flow: FlowSummary, side: Side, tSeconds: number): TcpState | undefined {
  return sideAt(flow, side, tSeconds)?.state;
}

/**
 * How long a socket stays in TIME_WAIT before the kernel frees it, in seconds: Linux's
 * TCP_TIMEWAIT_LEN (2MSL = 60 s). Only the virtual netstat applies it, because `ss` would no
 * longer list the socket; flows keep TIME_WAIT as their final state (no timers on final states).
 */
export const TIME_WAIT_SECONDS = 60;

/** One row of the virtual `netstat`: sockets in a state on a host. */
export interface NetstatRow {
  readonly host: string;
  readonly state: TcpState | 'LISTEN';
  readonly count: number;
}

/** What `netstat`/`ss` would have counted at `tSeconds`, per host; listeners as LISTEN rows. */
export interface NetstatSnapshot {
  readonly tSeconds: number;
  readonly rows: readonly NetstatRow[];
  /** Listening services seen (a server that answered a SYN or exchanged data as server). */
  readonly listeners: readonly string[];
}

/**
 * Counts each endpoint's socket state at `tSeconds`. A side in CLOSED (or with no transition yet)
 * has no socket and is not counted; UNKNOWN (seen mid-stream) is counted as ESTABLISHED-like
 * UNKNOWN so nothing is hidden. Listeners: one LISTEN row per distinct server ip:port that sent a
 * SYN-ACK, as a host would show one listening socket per service. One scan of `flows` (summaries:
 * no record is built); keeps counters per distinct host, state and service.
 */
export function netstatAt(flows: FlowList, tSeconds: number): NetstatSnapshot {
  const counts = new Map<string, number>();
  const listeners = new Set<string>();
  scanFlows(flows, (f) => {
    if (f.counts.synAck > 0 && f.startSeconds <= tSeconds) listeners.add(`${f.server.ip}:${f.server.port}`);
    if (f.startSeconds > tSeconds) return;
    for (const side of ['client', 'server'] as const) {
      const at = sideAt(f, side, tSeconds);
      if (at === undefined || at.state === 'CLOSED') continue;
      if (at.state === 'TIME_WAIT' && tSeconds - at.since > TIME_WAIT_SECONDS) continue;
      const state = at.state;
      const host = side === 'client' ? f.client.ip : f.server.ip;
      const key = `${host}\u0000${state}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  });
  const hostsWithListeners = new Map<string, number>();
  for (const l of listeners) {
    const host = l.slice(0, l.lastIndexOf(':'));
    hostsWithListeners.set(host, (hostsWithListeners.get(host) ?? 0) + 1);
  }
  const rows: NetstatRow[] = [];
  for (const [key, count] of counts) {
    const [host, state] = key.split('\u0000') as [string, TcpState];
    rows.push({ host, state, count });
  }
  for (const [host, count] of hostsWithListeners) rows.push({ host, state: 'LISTEN', count });
  rows.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.state < b.state ? -1 : a.state > b.state ? 1 : 0));
  return { tSeconds, rows, listeners: [...listeners].sort() };
}
