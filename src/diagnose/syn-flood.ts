/**
 * `syn-flood`: many half-open connections (SYNs never followed by the client's final ACK) to one
 * listener from many sources: a SYN flood, or a client population that cannot complete handshakes.
 */
import type { Endpoint } from '../tcp/types.ts';
import { flowIndex, flowsAt, positionsByListener } from './aggregates.ts';
import { clientSyns } from './handshake.ts';
import { captureEndSeconds } from './syn-retransmit.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { SynFloodOptions } from './options.ts';
import { isOneWayFlow, qualityCaveatOf } from './quality.ts';
import type { Detector, DetectorInput, Finding } from './types.ts';
import { endpointText, flowStart, ipField, makeFinding, plural, round, segmentInstant, timeRange } from './util.ts';
import type { Instant } from './util.ts';

/** What `syn-flood` keeps of a half-open connection (not its record: a flood can hold millions). */
interface HalfOpen {
  readonly id: number;
  readonly client: Endpoint;
  readonly synAck: number;
  readonly synAckRetransmissions: number;
  readonly startSeconds: number;
  readonly start: Instant;
  /** The client's SYNs. */
  readonly synFrames: readonly number[];
  readonly synInstants: readonly Instant[];
  /** Captured in one direction only (see isOneWayFlow): a quality caveat. */
  readonly oneWay: boolean;
}

/** Linux's initial SYN-ACK retransmission timeout (TCP_TIMEOUT_INIT), seconds. */
const SYNACK_RTO_SECONDS = 1;

/** The folded unanswered SYNs of a capture (`capture.unansweredSynsFolded`), summed per listener `ip:port`. */
function foldedByListener(input: DetectorInput): Map<string, { connections: number; synPackets: number; firstSeconds: number; lastSeconds: number; firstTs: string; lastTs: string }> {
  const out = new Map<string, { connections: number; synPackets: number; firstSeconds: number; lastSeconds: number; firstTs: string; lastTs: string }>();
  for (const fold of input.capture.unansweredSynsFolded ?? []) {
    const key = endpointText(fold.server);
    const acc = out.get(key);
    if (acc === undefined) {
      out.set(key, { connections: fold.connections, synPackets: fold.synPackets, firstSeconds: fold.firstSeconds, lastSeconds: fold.lastSeconds, firstTs: fold.firstTs, lastTs: fold.lastTs });
      continue;
    }
    acc.connections += fold.connections;
    acc.synPackets += fold.synPackets;
    if (fold.firstSeconds < acc.firstSeconds) {
      acc.firstSeconds = fold.firstSeconds;
      acc.firstTs = fold.firstTs;
    }
    if (fold.lastSeconds > acc.lastSeconds) {
      acc.lastSeconds = fold.lastSeconds;
      acc.lastTs = fold.lastTs;
    }
  }
  return out;
}

export const synFlood: Detector<SynFloodOptions> = {
  id: 'syn-flood',
  title: 'SYN flood',
  description: 'Many half-open connections to one listener from many sources or ports.',
  severity: 'error',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['syn-flood'],
  evaluate(input, options) {
    const findings: Finding[] = [];
    const index = flowIndex(input);
    // The half-open positions of each listener (by rank), grouped once from the pass's list when
    // a listener's counts first reach the thresholds; records are built for that listener's only.
    let halfOpenByListener: Map<number, number[]> | undefined;
    // Unanswered SYN-only connections the tracker counted instead of keeping (a flood past
    // `synFloodOutstanding` unanswered SYNs): in the totals, not in the lists of flows and frames.
    const folded = foldedByListener(input);
    for (const listener of index.listeners.values()) {
      const fold = folded.get(listener.endpoint);
      const foldedCount = fold?.connections ?? 0;
      const flowCount = listener.flowCount + foldedCount;
      // Counted per listener already: skip the grouping where it cannot reach the thresholds.
      const halfOpenCount = listener.halfOpen + listener.unanswered + foldedCount;
      if (halfOpenCount < options.minHalfOpen) continue;
      if (halfOpenCount < options.minHalfOpenFraction * flowCount) continue;
      halfOpenByListener ??= positionsByListener(index, index.halfOpenPositions);
      const halfOpen: HalfOpen[] = [];
      for (const f of flowsAt(input, halfOpenByListener.get(listener.rank) ?? [])) {
        const syns = clientSyns(f);
        halfOpen.push({
          id: f.id,
          client: f.client,
          synAck: f.counts.synAck,
          synAckRetransmissions: f.counts.synAckRetransmissions,
          startSeconds: f.startSeconds,
          start: flowStart(f),
          synFrames: syns.map((s) => s.frame),
          synInstants: syns.map((s) => segmentInstant(f, s)),
          oneWay: isOneWayFlow(f),
        });
      }
      const total = halfOpen.length + foldedCount;
      if (total < options.minHalfOpen) continue;
      if (total < options.minHalfOpenFraction * flowCount) continue;
      // A folded connection is one more source port at most (its tuple is not kept).
      const sources = new Set(halfOpen.map((f) => `${f.client.ip}|${f.client.port}`)).size + foldedCount;
      if (sources < options.minDistinctSources) continue;
      const ips = new Set(halfOpen.map((f) => f.client.ip)).size;
      const answered = halfOpen.filter((f) => f.synAck > 0);
      // SYN cookies keep no state per SYN, so the server never retransmits those SYN-ACKs; a
      // stateful SYN queue retransmits each one after its 1 s timer (up to tcp_synack_retries).
      // A half-open connection answered once and never again, while the capture ran on for more
      // than that timer, was answered with a cookie.
      const end = captureEndSeconds(input);
      const stateless = answered.filter((f) => f.synAckRetransmissions === 0 && end - f.startSeconds > SYNACK_RTO_SECONDS * 1.5);
      const cookies = stateless.length > 0;
      const server = listener.server;
      let earliest = Infinity;
      let latest = -Infinity;
      for (const f of halfOpen) {
        earliest = Math.min(earliest, f.startSeconds);
        latest = Math.max(latest, f.startSeconds);
      }
      if (fold !== undefined) {
        earliest = Math.min(earliest, fold.firstSeconds);
        latest = Math.max(latest, fold.lastSeconds);
      }
      const span = latest - earliest;
      const rate = total / Math.max(span, 1);
      const synInstants = halfOpen.flatMap((f) => f.synInstants);
      const field = ipField(server.ip);
      findings.push(
        makeFinding(synFlood, {
          summary:
            `${listener.endpoint} received ${plural(total, 'half-open connection')} (${round(rate, 1)}/s) from ${foldedCount > 0 ? 'at least ' : ''}${plural(ips, 'address', 'addresses')} and ${foldedCount > 0 ? 'up to ' : ''}${plural(sources, 'source port')}; ` +
            (foldedCount > 0 ? `${foldedCount} of them, SYNs only and never answered, were counted without keeping each connection; ` : '') +
            `${answered.length} got a SYN-ACK${cookies ? `, ${stateless.length} of them never retransmitted (SYN cookies in use)` : ''}.`,
          explanation:
            'Each SYN makes a listener create a request socket in SYN_RECEIVED and answer with a SYN-ACK (RFC 9293 §3.5); the connection waits for the client\'s final ACK, which never came here. ' +
            'Many such SYNs from many sources fill the SYN queue (net.ipv4.tcp_max_syn_backlog), after which Linux either drops new SYNs or, with net.ipv4.tcp_syncookies=1, answers statelessly with SYN cookies (RFC 4987 §3.6). ' +
            (cookies ? `${stateless.length} SYN-ACKs here were never retransmitted, which is how SYN cookies look (no request socket, so no retransmission timer): legitimate clients still get through, without window scaling or SACK if timestamps are off.` : 'Legitimate clients compete for the same queue and see SYN retries or timeouts.'),
          causes: [
            'A SYN flood (denial of service), usually with spoofed source addresses.',
            'A scanner sweeping the port.',
            'Clients that cannot receive the SYN-ACK (asymmetric routing, a firewall dropping the return path).',
          ],
          checks: [
            "On the server: ss -tn state syn-recv sport = :" + server.port + ' | wc -l',
            'nstat -az TcpExtSyncookiesSent TcpExtSyncookiesRecv TcpExtSyncookiesFailed TcpExtListenDrops TcpExtTCPReqQFullDrop',
            'sysctl net.ipv4.tcp_syncookies net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_synack_retries net.core.somaxconn',
            'Upstream DDoS protection, rate limits, and whether the sources are spoofed (TTL spread, no answer to SYN-ACKs)',
          ],
          endpoint: listener.endpoint,
          flows: halfOpen.map((f) => f.id),
          frames: halfOpen.flatMap((f) => f.synFrames),
          count: total,
          ...timeRange([
            ...(synInstants.length > 0 ? synInstants : halfOpen.map((f) => f.start)),
            ...(fold !== undefined
              ? [
                  { seconds: fold.firstSeconds, iso: fold.firstTs },
                  { seconds: fold.lastSeconds, iso: fold.lastTs },
                ]
              : []),
          ]),
          fallbackFilter: `tcp.flags.syn==1 && tcp.flags.ack==0 && ${field}.dst==${server.ip} && tcp.dstport==${server.port}`,
          caveat: qualityCaveatOf(input, halfOpen.filter((f) => f.oneWay).length, ['absence']),
          details: {
            halfOpen: total,
            sourceAddresses: ips,
            sourcePorts: sources,
            synAcked: answered.length,
            synCookiesLikely: cookies,
            statelessSynAcks: stateless.length,
            halfOpenPerSecond: round(rate, 3),
            ...(foldedCount > 0 ? { foldedHalfOpen: foldedCount, foldedSynPackets: fold?.synPackets ?? 0 } : {}),
          },
        }),
      );
    }
    return findings;
  },
};
