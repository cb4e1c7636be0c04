/** `data-unacked`: data sent and never acknowledged until the connection died. */
import type { FlowRecord, Side } from '../tcp/types.ts';
import { flowIndex, flowsAt, groupByListener, matchFlows } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { DataUnackedOptions } from './options.ts';
import { matchDroppedAck } from './accept-overflow-drop.ts';
import { isOneWayFlow, qualityCaveatOf } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import { flowFilter, flowRef, isFin, isRst, makeFinding, plural, segmentInstant, timeRange } from './util.ts';
import type { FlowRef, Instant } from './util.ts';

export interface UnackedData {
  /** The connection's id and endpoints (not its record: a dead path can hold every connection). */
  readonly flow: FlowRef;
  /** The sampled segments of `frames`, and the connection's end: the finding's time range. */
  readonly instants: readonly Instant[];
  readonly end: Instant;
  /** Captured in one direction only (see isOneWayFlow): a quality caveat. */
  readonly oneWay: boolean;
  readonly side: Side;
  readonly bytes: number;
  readonly retransmissions: number;
  readonly frames: readonly number[];
}

/**
 * Matches a side that ended with unacknowledged bytes it had retransmitted at least once, or that
 * reset the connection itself after sending them. Not evidence:
 * bytes merely in flight when the capture (or the tracker's idle timeout) stopped seeing the flow;
 * data sent after the connection was already reset (the `reset` finding tells that story); bytes
 * that ride on a retransmitted FIN (`fin-retransmit` reports them).
 */
export function matchUnackedData(flow: FlowRecord, minBytes: number): UnackedData | undefined {
  const firstRst = flow.segments.find((s) => isRst(s));
  for (const side of ['client', 'server'] as const) {
    const bytes = flow.unackedBytesAtEnd[side];
    if (bytes < minBytes) continue;
    const retrans = side === 'client' ? flow.counts.dataRetransmissionsClient : flow.counts.dataRetransmissionsServer;
    const data = flow.segments.filter((s) => s.from === side && s.len > 0);
    const lastData = data[data.length - 1];
    if (retrans === 0) {
      // Without a retransmission only the sender's own RST, after the data, says it gave up on
      // it. A RST from the receiver answers the data (which therefore arrived): see `reset`.
      if (flow.closeReason !== 'reset' || firstRst === undefined || firstRst.from !== side) continue;
      if (lastData !== undefined && lastData.frame > firstRst.frame) continue;
    }
    if (lastData !== undefined && isFin(lastData) && bytes <= lastData.len && flow.counts.finRetransmissions > 0) continue;
    const shown = data.slice(-20);
    return {
      flow: flowRef(flow),
      instants: flow.segments.filter((s) => shown.includes(s)).map((s) => segmentInstant(flow, s)),
      end: { seconds: flow.endSeconds, iso: flow.end },
      oneWay: isOneWayFlow(flow),
      side,
      bytes,
      retransmissions: retrans,
      frames: shown.map((s) => s.frame),
    };
  }
  return undefined;
}

export const dataUnacked: Detector<DataUnackedOptions> = {
  id: 'data-unacked',
  title: 'Data never acknowledged',
  description: 'Data was sent and never acknowledged until the connection died.',
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['data-unacked'],
  evaluate(input, options) {
    // Data the server discarded because its accept queue was full is reported by accept-overflow-drop.
    const dropOptions = DEFAULT_DIAGNOSE_OPTIONS['accept-overflow-drop'];
    // A match needs unacknowledged bytes at the end, unless fewer than one byte is asked for.
    // Below 1 byte every flow is a candidate: the list is walked once more.
    const candidates = options.minUnackedBytes >= 1 ? flowsAt(input, flowIndex(input).unackedPositions) : input.flows;
    const matches = matchFlows(candidates, (f) => {
      const m = matchUnackedData(f, options.minUnackedBytes);
      return m !== undefined && matchDroppedAck(f, dropOptions.minSynAckResends) === undefined ? m : undefined;
    });
    const findings: Finding[] = [];
    for (const [endpoint, group] of groupByListener(input, matches, (m) => m.flow)) {
      const bytes = group.reduce((n, m) => n + m.bytes, 0);
      const retrans = group.reduce((n, m) => n + m.retransmissions, 0);
      const sides = [...new Set(group.map((m) => m.side))].join(' and ');
      const instants = group.flatMap((m) => m.instants);
      findings.push(
        makeFinding(dataUnacked, {
          summary: `${plural(group.length, 'connection')} of ${endpoint} ended with ${plural(bytes, 'byte')} sent by the ${sides} never acknowledged (${plural(retrans, 'retransmission')}).`,
          explanation:
            'TCP retransmits unacknowledged data with exponential backoff (RFC 6298) until it is acknowledged or the sender gives up: Linux after net.ipv4.tcp_retries2 retries (default 15, roughly 15 minutes), or earlier with TCP_USER_TIMEOUT. ' +
            'Data that stays unacknowledged until the connection dies never reached the peer\'s TCP (or its ACKs never came back): the peer or the path was gone, and the application lost those bytes.',
          causes: [
            'The peer host went away or its network failed (crash, power loss, cable, VM migration).',
            'A middlebox (NAT, firewall, load balancer) dropped the connection state and silently discards its packets.',
            'An MTU black hole: large segments dropped without ICMP "fragmentation needed" (small ones get through).',
          ],
          checks: [
            'sysctl net.ipv4.tcp_retries2 and any TCP_USER_TIMEOUT set by the application',
            'nstat -az TcpRetransSegs TcpExtTCPAbortOnTimeout',
            'Path MTU: ping -M do -s 1472 PEER; ip route get PEER; middlebox idle timeouts',
          ],
          endpoint,
          flows: group.map((m) => m.flow.id),
          frames: group.flatMap((m) => m.frames),
          count: group.length,
          ...timeRange(instants.length > 0 ? instants : group.map((m) => m.end)),
          fallbackFilter: `(${group.slice(0, 10).map((m) => flowFilter(m.flow)).join(' || ')}) && tcp.len>0`,
          caveat: qualityCaveatOf(input, group.filter((m) => m.oneWay).length, ['absence']),
          details: { connections: group.map((m) => ({ flow: m.flow.id, side: m.side, unackedBytes: m.bytes, retransmissions: m.retransmissions })) },
        }),
      );
    }
    return findings;
  },
};
