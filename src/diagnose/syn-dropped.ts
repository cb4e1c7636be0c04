/**
 * `syn-dropped`: SYNs that got no answer at all while the same listener answered others in the
 * capture: the listener exists, so the SYN was dropped (queues full, or a firewall rule).
 */
import { flowIndex, flowsAt, groupByListener, listenerAggregates } from './aggregates.ts';
import { clientActsConnected, clientSyns } from './handshake.ts';
import { scanProbeIds } from './port-scan.ts';
import { captureEndSeconds } from './syn-retransmit.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { SynDroppedOptions } from './options.ts';
import { isOneWayFlow, qualityCaveatOf } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { connectionEvidence, ipField, makeFinding, plural, timeRange } from './util.ts';
import type { ConnectionEvidence } from './util.ts';

/** What `syn-dropped` keeps of an unanswered connection: its client's SYNs as evidence. */
interface Unanswered extends ConnectionEvidence {
  /** Captured in one direction only (see isOneWayFlow): a quality caveat. */
  readonly oneWay: boolean;
}

export const synDropped: Detector<SynDroppedOptions> = {
  id: 'syn-dropped',
  title: 'SYNs dropped by a live listener',
  description: 'Connection attempts got no answer at all while the same listener answered other clients.',
  severity: 'error',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['syn-dropped'],
  evaluate(input, options) {
    const listeners = listenerAggregates(input);
    // Left out: probes of a port scan (`port-scan`), and clients that went on as if connected
    // (ACKs after the SYN): they got an answer the capture missed, nothing was dropped.
    // Also left out: a first SYN sent less than `minSilenceSeconds` before the capture ended, whose
    // answer may simply not have been captured yet.
    const probes = scanProbeIds(input);
    const end = captureEndSeconds(input);
    // A few facts per unanswered connection, not its record (a storm would hold them all).
    const unanswered: Unanswered[] = [];
    for (const f of flowsAt(input, flowIndex(input).noSynAckPositions)) {
      if (f.handshake !== 'no_synack' || f.packets.server !== 0 || probes.has(f.id) || clientActsConnected(f) || !(end - f.startSeconds >= options.minSilenceSeconds)) continue;
      unanswered.push({ ...connectionEvidence(f, clientSyns(f)), oneWay: isOneWayFlow(f) });
    }
    const findings: Finding[] = [];
    for (const [endpoint, flows] of groupByListener(input, unanswered, (u) => u)) {
      const listener = listeners.get(endpoint);
      if (listener === undefined || listener.answered === 0 || flows.length < options.minConnections) continue;
      const first = flows[0]!;
      const synFrames = flows.flatMap((u) => u.frames);
      const synInstants = flows.flatMap((u) => u.instants);
      const v = listener.vantage;
      const where =
        v === 'server'
          ? 'The capture was taken near the server: these SYNs reached the server host, which dropped them.'
          : v === 'client'
            ? 'The capture was taken near the client: the SYNs may have been lost anywhere between here and the server, or dropped by it.'
            : 'The vantage point cannot be told (same host or LAN); the listener answering others in the same period points at a drop by the server host.';
      findings.push(
        makeFinding(synDropped, {
          severity: v === 'client' ? 'warning' : 'error',
          summary: `${plural(flows.length, 'connection')} to ${endpoint} sent ${plural(synFrames.length, 'SYN')} and got no answer, while the listener answered ${plural(listener.answered, 'other connection')}.`,
          explanation:
            'A listening socket answers a SYN with a SYN-ACK (RFC 9293 §3.5), or with a RST when nothing listens. Silence while the same port answers others means the SYN was discarded: Linux drops SYNs when the SYN queue (tcp_max_syn_backlog) is full without SYN cookies, or when the accept queue is already full (ListenDrops), and a firewall rule can drop selectively. ' +
            where,
          causes: [
            'Accept queue full: Linux drops new SYNs while the accept queue is full (the application is not accepting fast enough).',
            'SYN queue full (net.ipv4.tcp_max_syn_backlog) with SYN cookies disabled.',
            'A firewall or rate limit (nftables, iptables hashlimit, a cloud security group) dropping some SYNs.',
          ],
          checks: [
            `On the server: ss -lnt 'sport = :${first.server.port}' (Recv-Q at Send-Q = accept queue full)`,
            'nstat -az TcpExtListenOverflows TcpExtListenDrops TcpExtTCPReqQFullDrop TcpExtTCPReqQFullDoCookies',
            "sysctl net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_syncookies, and the application's listen() backlog",
            'nft list ruleset / iptables -S -v (drop counters) on the server and on firewalls in between',
          ],
          endpoint,
          flows: flows.map((u) => u.id),
          frames: synFrames,
          count: flows.length,
          ...timeRange(synInstants.length > 0 ? synInstants : flows.map((u) => u.start)),
          fallbackFilter: `tcp.flags.syn==1 && tcp.flags.ack==0 && ${ipField(first.server.ip)}.dst==${first.server.ip} && tcp.dstport==${first.server.port}`,
          caveat: qualityCaveatOf(input, flows.filter((u) => u.oneWay).length, ['absence']),
          details: { vantage: v, answeredByListener: listener.answered, synsUnanswered: synFrames.length },
        }),
      );
    }
    return findings;
  },
};
