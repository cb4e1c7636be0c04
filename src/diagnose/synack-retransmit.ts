/**
 * `synack-retransmit`: the server sent its SYN-ACK again. Whether the client's final ACK was
 * captured decides where the problem is: seen → the server dropped it (accept queue full, see
 * `accept-overflow-drop`); not seen → the SYN-ACK or the ACK was lost on the network.
 */
import type { Endpoint } from '../tcp/types.ts';
import { flowIndex, flowsAt, groupByListener } from './aggregates.ts';
import { clientFinalAck, clientSyns, firstSynAck, timerSynAcksAfter } from './handshake.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { SynAckRetransmitOptions } from './options.ts';
import { qualityCaveatOf } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { isSynAck, listenerFilter, makeFinding, plural, segmentInstant, timeRange, timesText } from './util.ts';
import type { Instant } from './util.ts';

/** What `synack-retransmit` keeps of an affected connection (not its record). */
interface SynAckResent {
  readonly id: number;
  readonly server: Endpoint;
  readonly resends: number;
  /** The client's final ACK was captured and the server resent its SYN-ACK on its timer after it. */
  readonly ackSeen: boolean;
  /** The client resent its SYN. */
  readonly dupSyn: boolean;
  /** The server's sampled SYN-ACKs. */
  readonly synAckFrames: readonly number[];
  readonly synAckInstants: readonly Instant[];
}

export const synAckRetransmit: Detector<SynAckRetransmitOptions> = {
  id: 'synack-retransmit',
  title: 'SYN-ACK retransmitted',
  description: "A server sent its SYN-ACK again: the client's final ACK did not reach it, or it dropped that ACK.",
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['synack-retransmit'],
  evaluate(input, options) {
    // Below 1 retransmission every flow is a candidate: the list is walked once more.
    const candidates = options.minRetransmissions >= 1 ? flowsAt(input, flowIndex(input).synAckRetransmittedPositions) : input.flows;
    // A few facts per affected connection, not its record (a storm would hold them all).
    const affected: SynAckResent[] = [];
    for (const f of candidates) {
      if (f.counts.synAckRetransmissions < options.minRetransmissions) continue;
      // The final ACK counts as "seen, then dropped" only when the server resent its SYN-ACK on its
      // own timer after it; a SYN-ACK resent because the client resent its SYN is an answer.
      const ack = clientFinalAck(f);
      const synAcks = f.segments.filter((s) => s.from === 'server' && isSynAck(s));
      affected.push({
        id: f.id,
        server: f.server,
        resends: f.counts.synAckRetransmissions,
        ackSeen: ack !== undefined && firstSynAck(f) !== undefined && timerSynAcksAfter(f, ack.frame).length > 0,
        dupSyn: clientSyns(f).length > 1,
        synAckFrames: synAcks.map((s) => s.frame),
        synAckInstants: synAcks.map((s) => segmentInstant(f, s)),
      });
    }
    const findings: Finding[] = [];
    for (const [endpoint, flows] of groupByListener(input, affected, (a) => a)) {
      const first = flows[0]!;
      const resends = flows.reduce((n, a) => n + a.resends, 0);
      const ackSeen = flows.filter((a) => a.ackSeen);
      const dupSyn = flows.filter((a) => a.dupSyn).length;
      const neverAcked = flows.length - ackSeen.length;
      findings.push(
        makeFinding(synAckRetransmit, {
          summary:
            `${plural(flows.length, 'connection')} to ${endpoint} had the SYN-ACK resent ${timesText(resends)}; ` +
            synAckOutcome(flows.length, ackSeen.length, neverAcked),
          explanation:
            'A listener in SYN_RECEIVED retransmits its SYN-ACK until the final ACK of the handshake arrives, up to net.ipv4.tcp_synack_retries times (default 5: about 63 s with 1, 2, 4 ... s backoff). ' +
            (ackSeen.length > 0
              ? `On ${plural(ackSeen.length, 'connection')} the client's ACK is in the capture, yet the SYN-ACK was resent: the server received the ACK and discarded it, which Linux does when the accept queue is full and net.ipv4.tcp_abort_on_overflow is 0. The client meanwhile believes it is connected. `
              : '') +
            (neverAcked > 0
              ? `On ${plural(neverAcked, 'connection')} no final ACK was captured before the resends: the SYN-ACK or the ACK was lost between the hosts, the client is gone, or the server answered a resent SYN. `
              : '') +
            (dupSyn > 0 ? `${plural(dupSyn, 'connection')} also saw the client resend its SYN, which makes the server answer again.` : ''),
          causes: [
            'Accept queue full on the server (application not calling accept() fast enough; backlog too small), with tcp_abort_on_overflow=0.',
            'Packet loss of the SYN-ACK towards the client or of the ACK back.',
            'A client that vanished after sending its SYN (a scanner, a crashed client, or spoofed SYNs).',
          ],
          checks: [
            `On the server: ss -lnt 'sport = :${first.server.port}' (Recv-Q reaching Send-Q = accept queue full)`,
            'nstat -az TcpExtListenOverflows TcpExtListenDrops TcpExtTCPSynRetrans',
            "sysctl net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_synack_retries net.ipv4.tcp_abort_on_overflow, and the application's listen() backlog",
          ],
          endpoint,
          flows: flows.map((a) => a.id),
          frames: flows.flatMap((a) => a.synAckFrames),
          count: flows.length,
          ...timeRange(flows.flatMap((a) => a.synAckInstants)),
          fallbackFilter: `tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.analysis.retransmission && ${listenerFilter(first.server)}`,
          // Repetition evidence: the caveat reads the capture's duplicate counts, no flow.
          caveat: qualityCaveatOf(input, 0, ['repetition']),
          details: { resends, finalAckSeen: ackSeen.map((a) => a.id), clientResentSyn: dupSyn },
        }),
      );
    }
    return findings;
  },
};

/**
 * Whether the client's final ACK was captured, said for what occurred: on all of them, on none,
 * or how many each way (a count of 0 read "captured on 0 of them").
 */
function synAckOutcome(connections: number, ackSeen: number, neverAcked: number): string {
  const captured = 'the server dropped it';
  const missing = 'lost on the network, or the SYN-ACK answered a resent SYN';
  const all = connections === 1 ? '' : connections === 2 ? ' on both' : ` on all ${connections}`;
  if (neverAcked === 0) return `the client's final ACK was captured${all} (${captured}).`;
  if (ackSeen === 0) return `the client's final ACK was missing${all} (${missing}).`;
  return `the client's final ACK was captured on ${ackSeen} of them (${captured}) and missing on ${neverAcked} (${missing}).`;
}
