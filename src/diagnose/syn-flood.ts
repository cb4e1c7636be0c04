/**
 * `syn-flood`: many half-open connections (SYNs never followed by the client's final ACK) to one
 * listener from many sources: a SYN flood, or a client population that cannot complete handshakes.
 */
import type { FlowRecord } from '../tcp/types.ts';
import { flowIndex, groupByListener } from './aggregates.ts';
import { clientSyns } from './handshake.ts';
import { captureEndSeconds } from './syn-retransmit.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { SynFloodOptions } from './options.ts';
import { qualityCaveat } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { ipField, makeFinding, plural, round, segmentInstant, timeRange } from './util.ts';

/** Linux's initial SYN-ACK retransmission timeout (TCP_TIMEOUT_INIT), seconds. */
const SYNACK_RTO_SECONDS = 1;

export const synFlood: Detector<SynFloodOptions> = {
  id: 'syn-flood',
  title: 'SYN flood',
  description: 'Many half-open connections to one listener from many sources or ports.',
  severity: 'error',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['syn-flood'],
  evaluate(input, options) {
    const findings: Finding[] = [];
    const index = flowIndex(input);
    // The half-open connections of each listener, grouped once from the pass's list when a
    // listener's counts first reach the thresholds.
    let halfOpenByListener: Map<string, FlowRecord[]> | undefined;
    for (const listener of index.listeners.values()) {
      // Counted per listener already: skip the grouping where it cannot reach the thresholds.
      const halfOpenCount = listener.halfOpen + listener.unanswered;
      if (halfOpenCount < options.minHalfOpen) continue;
      if (halfOpenCount < options.minHalfOpenFraction * listener.flowCount) continue;
      halfOpenByListener ??= groupByListener(input, index.halfOpen, (f) => f);
      const halfOpen = halfOpenByListener.get(listener.endpoint) ?? [];
      if (halfOpen.length < options.minHalfOpen) continue;
      if (halfOpen.length < options.minHalfOpenFraction * listener.flowCount) continue;
      const sources = new Set(halfOpen.map((f) => `${f.client.ip}|${f.client.port}`)).size;
      if (sources < options.minDistinctSources) continue;
      const ips = new Set(halfOpen.map((f) => f.client.ip)).size;
      const answered = halfOpen.filter((f) => f.counts.synAck > 0);
      // SYN cookies keep no state per SYN, so the server never retransmits those SYN-ACKs; a
      // stateful SYN queue retransmits each one after its 1 s timer (up to tcp_synack_retries).
      // A half-open connection answered once and never again, while the capture ran on for more
      // than that timer, was answered with a cookie.
      const end = captureEndSeconds(input);
      const stateless = answered.filter((f) => f.counts.synAckRetransmissions === 0 && end - f.startSeconds > SYNACK_RTO_SECONDS * 1.5);
      const cookies = stateless.length > 0;
      const first = halfOpen[0]!;
      const span = Math.max(...halfOpen.map((f) => f.startSeconds)) - Math.min(...halfOpen.map((f) => f.startSeconds));
      const rate = halfOpen.length / Math.max(span, 1);
      const syns = halfOpen.flatMap((f) => clientSyns(f).map((s) => ({ f, s })));
      const field = ipField(first.server.ip);
      findings.push(
        makeFinding(synFlood, {
          summary:
            `${listener.endpoint} received ${plural(halfOpen.length, 'half-open connection')} (${round(rate, 1)}/s) from ${plural(ips, 'address', 'addresses')} and ${plural(sources, 'source port')}; ` +
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
            "On the server: ss -tn state syn-recv sport = :" + first.server.port + ' | wc -l',
            'nstat -az TcpExtSyncookiesSent TcpExtSyncookiesRecv TcpExtSyncookiesFailed TcpExtListenDrops TcpExtTCPReqQFullDrop',
            'sysctl net.ipv4.tcp_syncookies net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_synack_retries net.core.somaxconn',
            'Upstream DDoS protection, rate limits, and whether the sources are spoofed (TTL spread, no answer to SYN-ACKs)',
          ],
          endpoint: listener.endpoint,
          flows: halfOpen.map((f) => f.id),
          frames: syns.map(({ s }) => s.frame),
          count: halfOpen.length,
          ...timeRange(syns.length > 0 ? syns.map(({ f, s }) => segmentInstant(f, s)) : halfOpen.map((f) => ({ seconds: f.startSeconds, iso: f.start }))),
          fallbackFilter: `tcp.flags.syn==1 && tcp.flags.ack==0 && ${field}.dst==${first.server.ip} && tcp.dstport==${first.server.port}`,
          caveat: qualityCaveat(input, halfOpen, ['absence']),
          details: { halfOpen: halfOpen.length, sourceAddresses: ips, sourcePorts: sources, synAcked: answered.length, synCookiesLikely: cookies, statelessSynAcks: stateless.length, halfOpenPerSecond: round(rate, 3) },
        }),
      );
    }
    return findings;
  },
};
