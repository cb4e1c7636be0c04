/** `fin-retransmit`: a FIN sent again: the FIN or its ACK was lost, or the peer is gone. */
import type { Endpoint, Side } from '../tcp/types.ts';
import { flowIndex, flowsAt, groupByListener } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { FinRetransmitOptions } from './options.ts';
import { isOneWayFlow, qualityCaveatOf } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { isFin, listenerFilter, makeFinding, peerOf, plural, segmentInstant, timeRange, timesText } from './util.ts';
import type { Instant } from './util.ts';

/** What `fin-retransmit` keeps of an affected connection (not its record). */
interface FinResent {
  readonly id: number;
  readonly server: Endpoint;
  readonly resends: number;
  /** The peer sent nothing after the first sampled FIN. */
  readonly peerSilent: boolean;
  /** The sampled FINs, and the senders of those that are retransmissions. */
  readonly finFrames: readonly number[];
  readonly finInstants: readonly Instant[];
  readonly resentBy: readonly Side[];
  readonly end: Instant;
  /** Captured in one direction only (see isOneWayFlow): a quality caveat. */
  readonly oneWay: boolean;
}

export const finRetransmit: Detector<FinRetransmitOptions> = {
  id: 'fin-retransmit',
  title: 'FIN retransmitted',
  description: 'A FIN was sent again because it was not acknowledged: the FIN or its ACK was lost, or the peer is gone.',
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['fin-retransmit'],
  evaluate(input, options) {
    // Below 1 retransmission every flow is a candidate: the list is walked once more.
    const candidates = options.minRetransmissions >= 1 ? flowsAt(input, flowIndex(input).finRetransmittedPositions) : input.flows;
    // A few facts per affected connection, not its record (a storm would hold them all).
    const affected: FinResent[] = [];
    for (const f of candidates) {
      if (f.counts.finRetransmissions < options.minRetransmissions) continue;
      const fins = f.segments.filter((s) => isFin(s));
      // The peer answering nothing after the first FIN means it (or the path) was gone.
      const fin = fins[0];
      affected.push({
        id: f.id,
        server: f.server,
        resends: f.counts.finRetransmissions,
        peerSilent: fin !== undefined && !f.segments.some((s) => s.from === peerOf(fin.from) && s.frame > fin.frame),
        finFrames: fins.map((s) => s.frame),
        finInstants: fins.map((s) => segmentInstant(f, s)),
        resentBy: fins.filter((s) => s.retransmission === 'fin').map((s) => s.from),
        end: { seconds: f.endSeconds, iso: f.end },
        oneWay: isOneWayFlow(f),
      });
    }
    const findings: Finding[] = [];
    for (const [endpoint, flows] of groupByListener(input, affected, (a) => a)) {
      const first = flows[0]!;
      const finInstants = flows.flatMap((a) => a.finInstants);
      const resends = flows.reduce((n, a) => n + a.resends, 0);
      const peerSilent = flows.filter((a) => a.peerSilent).length;
      const senders = [...new Set(flows.flatMap((a) => a.resentBy))];
      findings.push(
        makeFinding(finRetransmit, {
          summary:
            `${plural(flows.length, 'connection')} of ${endpoint} resent a FIN ${timesText(resends)} (sent by the ${senders.join(' and ') || 'closing side'}); ` +
            (peerSilent === 0
              ? 'the peer kept answering.'
              : peerSilent === flows.length
                ? `${flows.length === 1 ? '' : flows.length === 2 ? 'on both ' : `on all ${flows.length} `}the peer never answered again.`
                : `on ${peerSilent} of them the peer never answered again.`),
          explanation:
            'A FIN occupies one sequence number and is retransmitted like data until the peer acknowledges it (RFC 9293 §3.6). The closing side waits in FIN_WAIT_1 (or LAST_ACK) meanwhile. ' +
            'On Linux an orphaned socket (already closed by the application) retries net.ipv4.tcp_orphan_retries times (0 means the default of 8) before giving up silently; the peer may then keep its end open. ' +
            'Repeated FINs with no answer mean the peer, or the path to it, was gone (host down, NAT or firewall state expired).',
          causes: [
            'The peer host went away (crash, power-off, container killed) before the close.',
            'A NAT, load balancer or firewall dropped its state for the connection, so packets no longer reach the peer.',
            'Packet loss of the FIN or of its ACK on the path.',
          ],
          checks: [
            'sysctl net.ipv4.tcp_orphan_retries net.ipv4.tcp_fin_timeout on the closing host',
            'nstat -az TcpExtTCPAbortOnTimeout TcpRetransSegs',
            'Idle timeouts of NAT gateways, load balancers and conntrack (net.netfilter.nf_conntrack_tcp_timeout_*) on the path',
          ],
          endpoint,
          flows: flows.map((a) => a.id),
          frames: flows.flatMap((a) => a.finFrames),
          count: flows.length,
          ...timeRange(finInstants.length > 0 ? finInstants : flows.map((a) => a.end)),
          fallbackFilter: `tcp.flags.fin==1 && ${listenerFilter(first.server)}`,
          // "The peer never answered" is an absence: a one-way or lossy capture can fake it.
          caveat: qualityCaveatOf(input, flows.filter((a) => a.oneWay).length, peerSilent > 0 ? ['repetition', 'absence'] : ['repetition']),
          details: { resends, peerSilent, senders },
        }),
      );
    }
    return findings;
  },
};
