/** `fin-retransmit`: a FIN sent again: the FIN or its ACK was lost, or the peer is gone. */
import { flowIndex, groupByListener, selectFlows } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { FinRetransmitOptions } from './options.ts';
import { qualityCaveat } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { isFin, listenerFilter, makeFinding, peerOf, plural, segmentInstant, timeRange } from './util.ts';

export const finRetransmit: Detector<FinRetransmitOptions> = {
  id: 'fin-retransmit',
  title: 'FIN retransmitted',
  description: 'A FIN was sent again because it was not acknowledged: the FIN or its ACK was lost, or the peer is gone.',
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['fin-retransmit'],
  evaluate(input, options) {
    // Below 1 retransmission every flow is a candidate: the list is walked once more.
    const candidates = options.minRetransmissions >= 1 ? flowIndex(input).finRetransmitted : input.flows;
    const affected = selectFlows(candidates, (f) => f.counts.finRetransmissions >= options.minRetransmissions);
    const findings: Finding[] = [];
    for (const [endpoint, flows] of groupByListener(input, affected, (f) => f)) {
      const first = flows[0]!;
      const fins = flows.flatMap((f) => f.segments.filter((s) => isFin(s)).map((s) => ({ f, s })));
      const resends = flows.reduce((n, f) => n + f.counts.finRetransmissions, 0);
      // The peer answering nothing after the first FIN means it (or the path) was gone.
      const peerSilent = flows.filter((f) => {
        const fin = f.segments.find((s) => isFin(s));
        if (fin === undefined) return false;
        return !f.segments.some((s) => s.from === peerOf(fin.from) && s.frame > fin.frame);
      }).length;
      const senders = [...new Set(fins.filter(({ s }) => s.retransmission === 'fin').map(({ s }) => s.from))];
      findings.push(
        makeFinding(finRetransmit, {
          summary: `${plural(flows.length, 'connection')} of ${endpoint} resent a FIN ${plural(resends, 'time')} (sent by the ${senders.join(' and ') || 'closing side'}); on ${peerSilent} the peer never answered again.`,
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
          flows: flows.map((f) => f.id),
          frames: fins.map(({ s }) => s.frame),
          count: flows.length,
          ...timeRange(fins.length > 0 ? fins.map(({ f, s }) => segmentInstant(f, s)) : flows.map((f) => ({ seconds: f.endSeconds, iso: f.end }))),
          fallbackFilter: `tcp.flags.fin==1 && ${listenerFilter(first.server)}`,
          // "The peer never answered" is an absence: a one-way or lossy capture can fake it.
          caveat: qualityCaveat(input, flows, peerSilent > 0 ? ['repetition', 'absence'] : ['repetition']),
          details: { resends, peerSilent, senders },
        }),
      );
    }
    return findings;
  },
};
