/**
 * `reset`: connections ended by RST, with a cause for each: during the handshake, after an idle
 * gap (a middlebox timeout), data arriving after close, close with unread data, or an abortive
 * close (RST instead of FIN, SO_LINGER 0). Refusals, accept-queue overflows and keepalive aborts
 * have their own detectors and are left out here.
 */
import type { FlowRecord, Side } from '../tcp/types.ts';
import { flowIndex, flowsAt, listenerKey, listenerOf } from './aggregates.ts';
import type { ListenerAggregate } from './aggregates.ts';
import { matchOverflowReset } from './accept-overflow-rst.ts';
import { matchKeepaliveAbort } from './keepalive-timeout.ts';
import { clientFinalAck } from './handshake.ts';
import { scanProbeIds } from './port-scan.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { ResetOptions } from './options.ts';
import type { Detector, DetectorInput, Finding } from './types.ts';
import { flowFilter, flowRef, formatSeconds, isFin, isRst, makeFinding, maxOf, plural, round, segmentInstant, segmentSeconds, timeRange, wasWere } from './util.ts';
import type { FlowRef, Instant } from './util.ts';

export type ResetCause = 'handshake' | 'idle-timeout' | 'data-after-close' | 'unread-data' | 'abortive-close';

/** One reset connection and why. */
export interface ClassifiedReset {
  readonly flow: FlowRef;
  readonly cause: ResetCause;
  readonly by: Side;
  readonly rstFrame: number;
  readonly at: Instant;
  /** Silence before the RST, seconds. */
  readonly gapSeconds: number;
}

/** Classifies the first RST of a flow; undefined when the flow has none captured. */
export function classifyReset(flow: FlowRecord, idleGapSeconds: number): ClassifiedReset | undefined {
  const index = flow.segments.findIndex((s) => isRst(s));
  const rst = flow.segments[index];
  if (rst === undefined) return undefined;
  const before = flow.segments.slice(0, index);
  const prev = before[before.length - 1];
  const prevPrev = before[before.length - 2];
  // The silence is either right before the RST, or right before the segment the RST answers (a
  // segment sent after a long pause, answered by a RST from a middlebox or a peer that forgot).
  const gapBeforeRst = prev === undefined ? 0 : segmentSeconds(flow, rst) - segmentSeconds(flow, prev);
  const gapBeforePrev = prev === undefined || prevPrev === undefined ? 0 : segmentSeconds(flow, prev) - segmentSeconds(flow, prevPrev);
  const gap = Math.max(gapBeforeRst, gapBeforePrev);
  const by = rst.from;
  const senderFin = before.some((s) => s.from === by && isFin(s));
  let cause: ResetCause;
  // During the handshake: before the client's final ACK (an acceptable one, see clientFinalAck).
  // A flow whose handshake completed and was then reset ('reset_after_ack') is not in this case.
  const finalAck = clientFinalAck(flow);
  if (flow.handshake !== 'not_seen' && (finalAck === undefined || rst.frame < finalAck.frame)) cause = 'handshake';
  // A RST after a long silence is typically a middlebox that forgot the connection, or a peer
  // answering a segment for a connection it no longer has.
  else if (prev !== undefined && gap >= idleGapSeconds) cause = 'idle-timeout';
  // Data reaching a socket that has been closed (FIN sent, application gone): RFC 9293 §3.10.7 / Linux tcp_rcv_state_process.
  else if (senderFin && prev !== undefined && prev.from !== by && prev.len > 0) cause = 'data-after-close';
  // RST right after the peer's data, without a FIN first: the application closed with data
  // unread in its receive buffer (RFC 2525 §2.17; Linux sends RST instead of FIN then).
  else if (!senderFin && prev !== undefined && prev.from !== by && prev.len > 0) cause = 'unread-data';
  else cause = 'abortive-close';
  return { flow: flowRef(flow), cause, by, rstFrame: rst.frame, at: segmentInstant(flow, rst), gapSeconds: round(gap, 6) };
}

const CAUSE_TEXT: Record<ResetCause, { summary: string; explanation: string; causes: string[]; checks: string[] }> = {
  handshake: {
    summary: 'during the handshake',
    explanation: 'The RST came before the three-way handshake completed: one side rejected the connection attempt or gave up on it.',
    causes: ['The server rejected the half-open connection (a firewall, a listener closing).', 'The client aborted a slow connect (its own connect timeout).'],
    checks: ['The client\'s connect timeout and the server\'s listener state (ss -lnt)', 'Firewalls with reject rules on the path'],
  },
  'idle-timeout': {
    summary: 'after an idle gap',
    explanation:
      'The connection was silent for a long time, then a segment was answered by RST: a NAT, firewall or load balancer dropped its state for the idle connection, or the peer had forgotten it.',
    causes: ['A middlebox idle timeout shorter than the application\'s idle period (NAT gateway, firewall, load balancer).', 'The peer restarted and lost the connection.'],
    checks: ['Idle timeouts on the path (load balancer, NAT, conntrack net.netfilter.nf_conntrack_tcp_timeout_established)', 'Enable TCP keepalive or application pings shorter than those timeouts'],
  },
  'data-after-close': {
    summary: 'because data arrived after the socket was closed',
    explanation:
      'The resetting side had already sent its FIN and closed the socket; when more data arrived for it, its kernel answered with RST (RFC 9293 §3.10.7.4): the peer was still sending when the application closed.',
    causes: ['The application closed while the peer was still sending (a protocol mismatch about who finishes first).', 'A response sent before the whole request was read, then close().'],
    checks: ['The application protocol: does the closing side read the request to the end before close()?', 'nstat -az TcpExtTCPAbortOnData'],
  },
  'unread-data': {
    summary: 'right after receiving data, without a FIN (close with unread data)',
    explanation:
      'The resetting side sent no FIN and reset right after the peer\'s data: Linux sends RST instead of FIN when the application closes a socket with unread data in its receive buffer (RFC 2525 §2.17), or when data arrives after such a close.',
    causes: ['The application closed without reading the request or response body to the end.', 'An error path that closes the connection early.'],
    checks: ['The code that closes the connection: is the body read to the end (HTTP body never read)?', 'nstat -az TcpExtTCPAbortOnClose TcpExtTCPAbortOnData'],
  },
  'abortive-close': {
    summary: 'by an abortive close (RST instead of FIN)',
    explanation:
      'The connection ended with a RST where a FIN was expected: an abortive close (RFC 9293 §3.6, "ABORT"). Applications do this with SO_LINGER {on, 0}, and runtimes do it when a process exits or a socket is destroyed with pending data.',
    causes: ['SO_LINGER with a zero timeout set by the application or a library (to avoid TIME_WAIT).', 'A process that crashed or was killed with open connections.', 'A proxy or load balancer aborting connections (timeouts, overload).'],
    checks: ['The application and its libraries for SO_LINGER / setLinger(0) / socket.resetAndDestroy()', 'Process restarts or crashes at the RST times', 'nstat -az TcpExtTCPAbortOnClose'],
  },
};

/** Groups by listener and cause, in order of each pair's first reset (`groupBy` on `ip:port|cause` text). */
function groupByListenerAndCause(input: DetectorInput, classified: readonly ClassifiedReset[]): ClassifiedReset[][] {
  const byListener = new Map<ListenerAggregate | string, Map<ResetCause, ClassifiedReset[]>>();
  const groups: ClassifiedReset[][] = [];
  for (const c of classified) {
    const l = listenerOf(input, c.flow) ?? listenerKey(c.flow);
    let byCause = byListener.get(l);
    if (byCause === undefined) {
      byCause = new Map();
      byListener.set(l, byCause);
    }
    const group = byCause.get(c.cause);
    if (group !== undefined) group.push(c);
    else {
      const created = [c];
      byCause.set(c.cause, created);
      groups.push(created);
    }
  }
  return groups;
}

export const reset: Detector<ResetOptions> = {
  id: 'reset',
  title: 'Connections reset',
  description: 'Connections ended by RST, with a cause for each.',
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS.reset,
  evaluate(input, options) {
    const overflowOptions = DEFAULT_DIAGNOSE_OPTIONS['accept-overflow-rst'];
    const keepaliveOptions = DEFAULT_DIAGNOSE_OPTIONS['keepalive-timeout'];
    const probes = scanProbeIds(input);
    // One record at a time: each classified reset keeps the flow's id and endpoints only.
    const classified: ClassifiedReset[] = [];
    for (const f of flowsAt(input, flowIndex(input).resetPositions)) {
      if (
        f.counts.rstClient + f.counts.rstServer > 0 &&
        !probes.has(f.id) &&
        f.handshake !== 'refused' &&
        matchOverflowReset(f, overflowOptions) === undefined &&
        matchKeepaliveAbort(f, keepaliveOptions.minUnansweredProbes) === undefined
      ) {
        const c = classifyReset(f, options.idleGapSeconds);
        if (c !== undefined) classified.push(c);
      }
    }
    const findings: Finding[] = [];
    for (const group of groupByListenerAndCause(input, classified)) {
      const { flow: first, cause } = group[0]!;
      const endpoint = listenerOf(input, first)?.endpoint ?? listenerKey(first);
      const text = CAUSE_TEXT[cause];
      // "by the client or the server" when both sides reset some of them.
      const bySide = [...new Set(group.map((c) => c.by))].join(' or the ');
      const gaps = group.map((c) => c.gapSeconds);
      // The idle gap measured: its length for one connection, the longest for several.
      const when =
        cause !== 'idle-timeout'
          ? text.summary
          : group.length === 1
            ? `after an idle gap of ${formatSeconds(maxOf(gaps))}`
            : `after idle gaps of up to ${formatSeconds(maxOf(gaps))}`;
      findings.push(
        makeFinding(reset, {
          summary: `${plural(group.length, 'connection')} of ${endpoint} ${wasWere(group.length)} reset by the ${bySide} ${when}.`,
          explanation: text.explanation,
          causes: text.causes,
          checks: text.checks,
          endpoint,
          flows: group.map((c) => c.flow.id),
          frames: group.map((c) => c.rstFrame),
          count: group.length,
          ...timeRange(group.map((c) => c.at)),
          fallbackFilter: `(${group.slice(0, 10).map((c) => flowFilter(c.flow)).join(' || ')}) && tcp.flags.reset==1`,
          details: { cause, connections: group.map((c) => ({ flow: c.flow.id, by: c.by, rstFrame: c.rstFrame, gapSeconds: c.gapSeconds })) },
        }),
      );
    }
    return findings;
  },
};
