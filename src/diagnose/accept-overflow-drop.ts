/**
 * `accept-overflow-drop`: the client's final ACK was captured, yet the server kept resending its
 * SYN-ACK (and did not ACK the client's data meanwhile): Linux drops the ACK when the accept queue
 * is full and `tcp_abort_on_overflow` is 0. The client believes it is connected; its requests time out.
 */
import type { FlowRecord } from '../tcp/types.ts';
import { listenerKey } from './aggregates.ts';
import { clientFinalAck, synAcksAfter } from './handshake.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { AcceptOverflowDropOptions } from './options.ts';
import { qualityCaveat } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { formatSeconds, groupBy, listenerFilter, makeFinding, plural, round, segmentInstant, segmentSeconds, timeRange } from './util.ts';

/** Evidence of one dropped final ACK: the ACK, the SYN-ACK resends after it, data ACK delay. */
export interface DroppedAck {
  readonly flow: FlowRecord;
  readonly ackFrame: number;
  readonly resendFrames: readonly number[];
  /** Seconds from the client's ACK to the server's first ACK of client data (absent: never). */
  readonly dataAckedAfterSeconds?: number;
}

/** Matches one flow against the pattern; undefined when it does not fit. */
export function matchDroppedAck(flow: FlowRecord, minResends: number): DroppedAck | undefined {
  if (flow.counts.synAckRetransmissions < minResends) return undefined;
  const ack = clientFinalAck(flow);
  if (ack === undefined) return undefined;
  const resends = synAcksAfter(flow, ack.frame);
  if (resends.length < minResends) return undefined;
  // The server ACKing client data at once (before the client had to retransmit it) means the
  // connection was established on its side: only the bare ACK was lost (e.g. a firewall after
  // the capture point), not an accept-queue drop, which also discards the data.
  const dataAck = flow.segments.find((s) => s.from === 'server' && s.ack > 1 && !s.flags.includes('S'));
  if (dataAck !== undefined) {
    const retransmittedBefore = flow.segments.some((s) => s.from === 'client' && s.retransmission === 'data' && s.frame < dataAck.frame);
    if (!retransmittedBefore) return undefined;
  }
  return {
    flow,
    ackFrame: ack.frame,
    resendFrames: resends.map((s) => s.frame),
    ...(dataAck !== undefined ? { dataAckedAfterSeconds: round(segmentSeconds(flow, dataAck) - segmentSeconds(flow, ack), 6) } : {}),
  };
}

export const acceptOverflowDrop: Detector<AcceptOverflowDropOptions> = {
  id: 'accept-overflow-drop',
  title: 'Accept queue full: final ACK dropped',
  description: "The server resent its SYN-ACK after the client's final ACK was captured: it dropped the ACK because its accept queue was full.",
  severity: 'error',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['accept-overflow-drop'],
  evaluate(input, options) {
    const matches = input.flows.map((f) => matchDroppedAck(f, options.minSynAckResends)).filter((m) => m !== undefined);
    const findings: Finding[] = [];
    for (const [endpoint, group] of groupBy(matches, (m) => listenerKey(m.flow))) {
      const first = group[0]!.flow;
      const delays = group.map((m) => m.dataAckedAfterSeconds).filter((d) => d !== undefined);
      const never = group.length - delays.length;
      const instants = group.flatMap((m) =>
        m.flow.segments.filter((s) => s.frame === m.ackFrame || m.resendFrames.includes(s.frame)).map((s) => segmentInstant(m.flow, s)),
      );
      findings.push(
        makeFinding(acceptOverflowDrop, {
          summary:
            `${plural(group.length, 'connection')} to ${endpoint} completed the handshake on the client's side but the server kept resending its SYN-ACK; ` +
            `${never} never had client data acknowledged` +
            (delays.length > 0 ? `, ${delays.length} waited up to ${formatSeconds(Math.max(...delays))} for it.` : '.'),
          explanation:
            "The client sent the final ACK of the handshake (captured here) and moved to ESTABLISHED, but the server stayed in SYN_RECEIVED and retransmitted its SYN-ACK. " +
            'Linux does exactly this when the listener\'s accept queue is full and net.ipv4.tcp_abort_on_overflow is 0: tcp_check_req() drops the ACK and counts it in ListenOverflows, hoping the queue drains before tcp_synack_retries run out. ' +
            'The client believes it is connected and sends its request, which goes unanswered: the user sees timeouts or slow first responses, not errors.',
          causes: [
            'The application does not call accept() fast enough (blocked event loop, thread pool exhausted, a slow start).',
            'listen() backlog or net.core.somaxconn too small for the connection burst.',
          ],
          checks: [
            `On the server: ss -lnt 'sport = :${first.server.port}' (Recv-Q at Send-Q = accept queue full)`,
            'nstat -az TcpExtListenOverflows TcpExtListenDrops (both increase with each dropped ACK)',
            "sysctl net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_abort_on_overflow, and the application's listen() backlog",
            'The application: accept loop latency, worker pool saturation, event-loop blocking at the time of the capture',
          ],
          endpoint,
          flows: group.map((m) => m.flow.id),
          frames: group.flatMap((m) => [m.ackFrame, ...m.resendFrames]),
          count: group.length,
          ...timeRange(instants),
          fallbackFilter: `tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.analysis.retransmission && ${listenerFilter(first.server)}`,
          caveat: qualityCaveat(
            input,
            group.map((m) => m.flow),
            ['absence', 'repetition'],
          ),
          details: {
            connections: group.map((m) => ({
              flow: m.flow.id,
              ackFrame: m.ackFrame,
              synAckResends: m.resendFrames.length,
              dataAckedAfterSeconds: m.dataAckedAfterSeconds ?? null,
            })),
          },
        }),
      );
    }
    return findings;
  },
};
