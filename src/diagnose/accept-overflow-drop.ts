/**
 * `accept-overflow-drop`: the client's final ACK was captured, yet the server kept resending its
 * SYN-ACK (and did not ACK the client's data meanwhile): Linux drops the ACK when the accept queue
 * is full and `tcp_abort_on_overflow` is 0. The client believes it is connected; its requests time out.
 */
import type { FlowRecord } from '../tcp/types.ts';
import { flowIndex, flowsAt, groupByListener, matchFlows } from './aggregates.ts';
import { clientFinalAck, timerSynAcksAfter } from './handshake.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { AcceptOverflowDropOptions } from './options.ts';
import { isOneWayFlow, qualityCaveatOf } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { flowRef, listenerFilter, makeFinding, plural, segmentInstant, timeRange } from './util.ts';
import type { FlowRef, Instant } from './util.ts';

/** Evidence of one dropped final ACK: the ACK and the SYN-ACK resends after it. */
export interface DroppedAck {
  /** The connection's id and endpoints (not its record: an overflow can hold every connection). */
  readonly flow: FlowRef;
  readonly ackFrame: number;
  readonly resendFrames: readonly number[];
  /** The sampled final ACK and SYN-ACK resends, in capture order. */
  readonly instants: readonly Instant[];
  /** Captured in one direction only (see isOneWayFlow): a quality caveat. */
  readonly oneWay: boolean;
  /** Client payload bytes sent after the handshake that the server never acknowledged. */
  readonly clientBytes: number;
}

/**
 * Matches one flow against the pattern; undefined when it does not fit. All of:
 * - the client's final ACK is captured and acknowledges the SYN-ACK (see {@link clientFinalAck});
 * - the server resent its SYN-ACK on its own timer after that ACK (a SYN-ACK answering a client
 *   SYN retransmission does not count);
 * - the server never acknowledged any client data: a full accept queue discards the data with the
 *   ACK. A server that ACKs the data (at once, or after the client retransmitted it) had the
 *   connection established: only a bare ACK was lost, or the resent SYN-ACK was a copy.
 */
export function matchDroppedAck(flow: FlowRecord, minResends: number): DroppedAck | undefined {
  if (flow.counts.synAckRetransmissions < minResends) return undefined;
  const ack = clientFinalAck(flow);
  if (ack === undefined) return undefined;
  const resends = timerSynAcksAfter(flow, ack.frame);
  if (resends.length < minResends) return undefined;
  const dataAck = flow.segments.some((s) => s.from === 'server' && s.ack > 1 && !s.flags.includes('S') && !s.flags.includes('R'));
  if (dataAck) return undefined;
  // Segments may be sampled: the exact counters still tell whether client data was acknowledged,
  // and a server that sent data of its own had the connection established.
  if (flow.counts.dataBytesClient > 0 && flow.unackedBytesAtEnd.client < flow.counts.dataBytesClient) return undefined;
  if (flow.counts.dataBytesServer > 0) return undefined;
  const resendFrames = resends.map((s) => s.frame);
  return {
    flow: flowRef(flow),
    ackFrame: ack.frame,
    resendFrames,
    instants: flow.segments.filter((s) => s.frame === ack.frame || resendFrames.includes(s.frame)).map((s) => segmentInstant(flow, s)),
    oneWay: isOneWayFlow(flow),
    clientBytes: flow.counts.dataBytesClient,
  };
}

export const acceptOverflowDrop: Detector<AcceptOverflowDropOptions> = {
  id: 'accept-overflow-drop',
  title: 'Accept queue full: final ACK dropped',
  description: "The server resent its SYN-ACK after the client's final ACK was captured: it dropped the ACK because its accept queue was full.",
  severity: 'error',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['accept-overflow-drop'],
  evaluate(input, options) {
    // A match needs SYN-ACK resends counted and a sampled final ACK (see matchDroppedAck); below 1
    // resend any sampled flow can match, and those are fetched by position.
    const index = flowIndex(input);
    const candidates = flowsAt(input, options.minSynAckResends >= 1 ? index.synAckRetransmittedPositions : index.sampledPositions);
    const matches = matchFlows(candidates, (f) => matchDroppedAck(f, options.minSynAckResends));
    const findings: Finding[] = [];
    for (const [endpoint, group] of groupByListener(input, matches, (m) => m.flow)) {
      const first = group[0]!.flow;
      const resendCount = group.reduce((n, m) => n + m.resendFrames.length, 0);
      const sentData = group.filter((m) => m.clientBytes > 0).length;
      const instants = group.flatMap((m) => m.instants);
      findings.push(
        makeFinding(acceptOverflowDrop, {
          summary:
            `${plural(group.length, 'connection')} to ${endpoint} completed the handshake on the client's side but the server kept resending its SYN-ACK ` +
            `(${plural(resendCount, 'resend')} after the client's final ACK) and never acknowledged client data` +
            (sentData > 0 ? ` (${plural(sentData, 'connection')} sent a request that went unanswered).` : '.'),
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
          caveat: qualityCaveatOf(input, group.filter((m) => m.oneWay).length, ['absence', 'repetition']),
          details: {
            connections: group.map((m) => ({
              flow: m.flow.id,
              ackFrame: m.ackFrame,
              synAckResends: m.resendFrames.length,
              clientBytes: m.clientBytes,
            })),
          },
        }),
      );
    }
    return findings;
  },
};
