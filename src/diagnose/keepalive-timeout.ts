/** `keepalive-timeout`: keepalive probes went unanswered and the prober aborted the connection. */
import type { FlowRecord, FlowSummary, Side } from '../tcp/types.ts';
import { flowIndex, flowsAt, groupByListener, matchFlows } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { KeepaliveTimeoutOptions } from './options.ts';
import { isOneWayFlow, qualityCaveatOf } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { flowFilter, flowRef, formatSeconds, isRst, makeFinding, maxOf, peerOf, plural, round, segmentInstant, segmentSeconds, timeRange, wasWere } from './util.ts';
import type { FlowRef, Instant } from './util.ts';

/** A connection aborted after unanswered keepalive probes. */
export interface KeepaliveAbort {
  /** The connection's id and endpoints (not its record). */
  readonly flow: FlowRef;
  /** The sampled probes and the RST: the finding's time range. */
  readonly instants: readonly Instant[];
  /** Captured in one direction only (see isOneWayFlow): a quality caveat. */
  readonly oneWay: boolean;
  readonly prober: Side;
  readonly probeFrames: readonly number[];
  readonly rstFrame: number;
  readonly probingSeconds: number;
}

/** True when a segment sample of the flow is a keepalive probe: a match with `minProbes` ≥ 1 needs one. */
export function hasKeepaliveSample(flow: FlowSummary): boolean {
  for (const s of flow.segments) if (s.retransmission === 'keepalive') return true;
  return false;
}

/** Matches: at least `minProbes` probes after the peer's last segment, then a RST from the prober. */
export function matchKeepaliveAbort(flow: FlowRecord, minUnansweredProbes: number): KeepaliveAbort | undefined {
  // At least one probe, whatever the option says (see KeepaliveTimeoutOptions).
  const minProbes = Math.max(1, minUnansweredProbes);
  // Fast exit, same answer: no probe sampled means fewer than `minProbes` on either side.
  if (!hasKeepaliveSample(flow)) return undefined;
  for (const prober of ['client', 'server'] as const) {
    const peer = peerOf(prober);
    const lastPeer = flow.segments.filter((s) => s.from === peer).reduce((m, s) => Math.max(m, s.frame), 0);
    const probes = flow.segments.filter((s) => s.from === prober && s.retransmission === 'keepalive' && s.frame > lastPeer);
    if (probes.length < minProbes) continue;
    const rst = flow.segments.find((s) => s.from === prober && isRst(s) && s.frame > probes[probes.length - 1]!.frame);
    if (rst === undefined) continue;
    const probeFrames = probes.map((s) => s.frame);
    return {
      flow: flowRef(flow),
      instants: flow.segments.filter((s) => probeFrames.includes(s.frame) || s.frame === rst.frame).map((s) => segmentInstant(flow, s)),
      oneWay: isOneWayFlow(flow),
      prober,
      probeFrames,
      rstFrame: rst.frame,
      probingSeconds: round(segmentSeconds(flow, rst) - segmentSeconds(flow, probes[0]!), 6),
    };
  }
  return undefined;
}

export const keepaliveTimeout: Detector<KeepaliveTimeoutOptions> = {
  id: 'keepalive-timeout',
  title: 'Keepalive timeout',
  description: 'Keepalive probes went unanswered and the connection was aborted.',
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['keepalive-timeout'],
  evaluate(input, options) {
    // A match needs a sampled probe (see matchKeepaliveAbort): only flows with one are candidates.
    const matches = matchFlows(flowsAt(input, flowIndex(input).keepaliveProbedPositions), (f) => matchKeepaliveAbort(f, options.minUnansweredProbes));
    const findings: Finding[] = [];
    for (const [endpoint, group] of groupByListener(input, matches, (m) => m.flow)) {
      const probes = group.reduce((n, m) => n + m.probeFrames.length, 0);
      const instants = group.flatMap((m) => m.instants);
      findings.push(
        makeFinding(keepaliveTimeout, {
          summary: `${plural(group.length, 'connection')} of ${endpoint} ${wasWere(group.length)} aborted after ${plural(probes, 'unanswered keepalive probe')} (probing for up to ${formatSeconds(maxOf(group.map((m) => m.probingSeconds)))}).`,
          explanation:
            'An idle connection with SO_KEEPALIVE sends probes (a segment at snd_nxt-1 with 0 or 1 byte) that any live peer must ACK (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6). ' +
            'Linux sends net.ipv4.tcp_keepalive_probes probes (default 9) net.ipv4.tcp_keepalive_intvl apart (default 75 s) after tcp_keepalive_time of idleness (default 7200 s), then resets the connection and reports ETIMEDOUT. ' +
            'Unanswered probes mean the peer host is gone or a middlebox no longer forwards the connection.',
          causes: [
            'The peer host crashed, rebooted or lost its network without closing.',
            'A NAT, firewall or load balancer dropped the idle connection\'s state (its idle timeout is shorter than the keepalive time).',
          ],
          checks: [
            'sysctl net.ipv4.tcp_keepalive_time net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes (and TCP_KEEPIDLE/KEEPINTVL/KEEPCNT set by the application)',
            'Idle timeouts of NAT gateways, firewalls and load balancers on the path',
            'nstat -az TcpExtTCPKeepAlive TcpExtTCPAbortOnTimeout',
          ],
          endpoint,
          flows: group.map((m) => m.flow.id),
          frames: group.flatMap((m) => [...m.probeFrames, m.rstFrame]),
          count: group.length,
          ...timeRange(instants),
          fallbackFilter: `(${group.slice(0, 10).map((m) => flowFilter(m.flow)).join(' || ')}) && (tcp.analysis.keep_alive || tcp.flags.reset==1)`,
          caveat: qualityCaveatOf(input, group.filter((m) => m.oneWay).length, ['absence']),
          details: { connections: group.map((m) => ({ flow: m.flow.id, prober: m.prober, probes: m.probeFrames.length, probingSeconds: m.probingSeconds })) },
        }),
      );
    }
    return findings;
  },
};
