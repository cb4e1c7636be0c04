/**
 * Vantage point: was the capture taken near the client or near the server? A SYN seen arriving
 * at the server and not answered is a server-side drop; unanswered in a client-side capture it
 * may have been lost anywhere on the path.
 */
import type { FlowRecord, FlowSummary } from '../tcp/types.ts';

export type Vantage = 'client' | 'server' | 'unknown';

export interface VantageGuess {
  readonly vantage: Vantage;
  /** Why, in words, for the explanation text. */
  readonly reason: string;
}

/**
 * A TTL / hop limit equal to a common initial value (Linux and macOS 64, Windows 128, network
 * gear 255) means the packet has not crossed a router yet: its sender is on the capture's link.
 */
export function isInitialTtl(ttl: number): boolean {
  return ttl === 64 || ttl === 128 || ttl === 255;
}

/**
 * One side's half of the handshake RTT must be at most this share of the other's to call the
 * capture near that side: near the server the SYN → SYN-ACK gap is only the server's own
 * processing time, while SYN-ACK → ACK spans the whole path to the client and back.
 */
const RTT_SPLIT_RATIO = 0.25;

/** Below this difference (ms) the split says nothing: both ends are on the same host or LAN. */
const RTT_MIN_DIFFERENCE_MS = 1;

/** Infers the vantage point of one flow from TTLs, then from the handshake RTT split. */
export function inferVantage(flow: FlowRecord): VantageGuess {
  const c = flow.ttl.client;
  const s = flow.ttl.server;
  if (c > 0 && s > 0) {
    if (isInitialTtl(c) && !isInitialTtl(s)) return { vantage: 'client', reason: `client TTL ${c} is an initial value, server TTL ${s} is not` };
    if (isInitialTtl(s) && !isInitialTtl(c)) return { vantage: 'server', reason: `server TTL ${s} is an initial value, client TTL ${c} is not` };
  }
  const rtt = flow.rttMs;
  if (rtt !== undefined && Math.abs(rtt.clientSide - rtt.serverSide) >= RTT_MIN_DIFFERENCE_MS) {
    if (rtt.serverSide <= RTT_SPLIT_RATIO * rtt.clientSide)
      return { vantage: 'server', reason: `SYN → SYN-ACK took ${rtt.serverSide} ms against ${rtt.clientSide} ms for SYN-ACK → ACK` };
    if (rtt.clientSide <= RTT_SPLIT_RATIO * rtt.serverSide)
      return { vantage: 'client', reason: `SYN-ACK → ACK took ${rtt.clientSide} ms against ${rtt.serverSide} ms for SYN → SYN-ACK` };
  }
  // A client that sent only SYNs still tells by its TTL when it is far: it crossed routers to get here.
  if (c > 0 && s <= 0 && !isInitialTtl(c)) return { vantage: 'server', reason: `client TTL ${c} has crossed routers` };
  return { vantage: 'unknown', reason: 'TTLs and the handshake RTT split do not tell' };
}

/**
 * {@link inferVantage} without the reason text: the same decision, and no string built, for
 * majorities over many flows.
 */
export function vantageOf(flow: FlowSummary): Vantage {
  const c = flow.ttl.client;
  const s = flow.ttl.server;
  if (c > 0 && s > 0) {
    if (isInitialTtl(c) && !isInitialTtl(s)) return 'client';
    if (isInitialTtl(s) && !isInitialTtl(c)) return 'server';
  }
  const rtt = flow.rttMs;
  if (rtt !== undefined && Math.abs(rtt.clientSide - rtt.serverSide) >= RTT_MIN_DIFFERENCE_MS) {
    if (rtt.serverSide <= RTT_SPLIT_RATIO * rtt.clientSide) return 'server';
    if (rtt.clientSide <= RTT_SPLIT_RATIO * rtt.serverSide) return 'client';
  }
  if (c > 0 && s <= 0 && !isInitialTtl(c)) return 'server';
  return 'unknown';
}

/** The majority vantage of several flows (e.g. all flows of one listener), ignoring unknowns. */
export function majorityVantage(flows: Iterable<FlowRecord>): Vantage {
  let client = 0;
  let server = 0;
  for (const f of flows) {
    const v = vantageOf(f);
    if (v === 'client') client++;
    else if (v === 'server') server++;
  }
  return majorityOfVotes(client, server);
}

/**
 * The majority of flows' {@link vantageOf} votes, unknowns left out: what {@link majorityVantage}
 * decides, from counts kept by a pass over the flows.
 */
export function majorityOfVotes(clientVotes: number, serverVotes: number): Vantage {
  if (clientVotes > serverVotes) return 'client';
  if (serverVotes > clientVotes) return 'server';
  return 'unknown';
}
