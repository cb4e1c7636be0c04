/** `connection-refused`: a SYN answered by RST/ACK: nothing listening on that port. */
import { flowIndex, flowsAt, groupByListener } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import { scanProbeIds } from './port-scan.ts';
import type { ConnectionRefusedOptions } from './options.ts';
import type { Detector, Finding } from './types.ts';
import { connectionEvidence, isRst, isSyn, listenerFilter, makeFinding, plural, timeRange, wasWere } from './util.ts';
import type { ConnectionEvidence } from './util.ts';

export const connectionRefused: Detector<ConnectionRefusedOptions> = {
  id: 'connection-refused',
  title: 'Connection refused',
  description: 'SYNs answered by RST/ACK: no socket listens on the port (or a firewall rejects with a reset).',
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['connection-refused'],
  evaluate(input, options) {
    // Probes of a port scan are summarised by `port-scan`.
    const probes = scanProbeIds(input);
    // A few facts per refused attempt, not its record (a refusal storm would hold them all).
    // Evidence: the client's SYNs and the server's RSTs.
    const refused: ConnectionEvidence[] = [];
    for (const f of flowsAt(input, flowIndex(input).refusedPositions)) {
      if (f.handshake !== 'refused' || probes.has(f.id)) continue;
      refused.push(connectionEvidence(f, f.segments.filter((s) => (s.from === 'client' && isSyn(s)) || (s.from === 'server' && isRst(s)))));
    }
    const findings: Finding[] = [];
    for (const [endpoint, flows] of groupByListener(input, refused, (r) => r)) {
      if (flows.length < options.minConnections) continue;
      const first = flows[0]!;
      const instants = flows.flatMap((r) => r.instants);
      findings.push(
        makeFinding(connectionRefused, {
          summary: `${plural(flows.length, 'connection attempt')} to ${endpoint} ${wasWere(flows.length)} answered by RST/ACK (connection refused).`,
          explanation:
            'A SYN that arrives for a port with no listening socket is answered with a RST whose ACK acknowledges the SYN (RFC 9293 §3.10.7.1, segment arrives in CLOSED state). ' +
            'The client\'s connect() fails at once with ECONNREFUSED. A firewall with a "reject with tcp-reset" rule produces the same packets.',
          causes: [
            'The service is not running, crashed, or is restarting on that host.',
            'The client uses the wrong port or address (stale DNS, service discovery, configuration).',
            'The service listens on another address only (127.0.0.1 vs 0.0.0.0, IPv4 vs IPv6).',
            'A firewall rejecting with tcp-reset.',
          ],
          checks: [
            `On the server: ss -lnt 'sport = :${first.server.port}' (is anything listening, and on which address?)`,
            'The service logs and its supervisor (systemctl status, container restarts) around the time of the refusals',
            'nft list ruleset / iptables -S for reject rules',
          ],
          endpoint,
          flows: flows.map((r) => r.id),
          frames: flows.flatMap((r) => r.frames),
          count: flows.length,
          ...timeRange(instants.length > 0 ? instants : flows.map((r) => r.start)),
          fallbackFilter: `((tcp.flags.syn==1 && tcp.flags.ack==0) || tcp.flags.reset==1) && ${listenerFilter(first.server)}`,
        }),
      );
    }
    return findings;
  },
};
