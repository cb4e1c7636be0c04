/**
 * `tuple-reuse`: a new connection on a 4-tuple whose previous incarnation was still in TIME_WAIT
 * on one side (or closed less than 2MSL before), and how the SYN was answered.
 */
import type { Endpoint, FlowRecord } from '../tcp/types.ts';
import { flowIndex, flowsAt, groupByListener } from './aggregates.ts';
import { clientSyns } from './handshake.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { TupleReuseOptions } from './options.ts';
import type { Detector, Finding } from './types.ts';
import { flowFilter, flowStart, formatSeconds, isRst, isSyn, makeFinding, maxOf, minOf, plural, segmentInstant, timeRange } from './util.ts';
import type { Instant } from './util.ts';

/** How the reused tuple's SYN was answered. */
export type ReuseAnswer = 'accepted' | 'challenge-ack' | 'rst' | 'no-answer';

/**
 * Whether the flow's segment samples were dropped: a routine flow past the first ones (see
 * `keepRoutineSamplesOfFirstFlows`); routine means, among other things, a complete handshake with
 * no RST and no retransmission.
 */
function samplesDropped(flow: FlowRecord): boolean {
  return flow.segments.length === 0 && flow.segmentsOmitted > 0 && flow.handshake === 'complete';
}

/** What `tuple-reuse` keeps of one reused connection (not its record). */
interface Reuse {
  readonly id: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly previous: NonNullable<FlowRecord['previous']>;
  readonly answer: ReuseAnswer;
  /** The client's SYN frames and the answer's frame, as evidence. */
  readonly frames: readonly number[];
  /** The client's SYNs. */
  readonly instants: readonly Instant[];
  readonly start: Instant;
}

/** Reads the server's first answer to the new SYN. */
export function reuseAnswer(flow: FlowRecord): { answer: ReuseAnswer; frame?: number } {
  // A routine flow (samples dropped): no RST and no SYN resent, so the server's first answer to
  // the SYN was its SYN-ACK.
  if (samplesDropped(flow)) return { answer: 'accepted' };
  const syn = flow.segments.find((s) => s.from === 'client' && isSyn(s));
  const reply = flow.segments.find((s) => s.from === 'server' && (syn === undefined || s.frame > syn.frame));
  if (reply === undefined) return { answer: 'no-answer' };
  if (reply.flags.includes('S')) return { answer: 'accepted', frame: reply.frame };
  if (isRst(reply)) return { answer: 'rst', frame: reply.frame };
  // RFC 9293 §3.10.7.4 / RFC 5961 §4: a SYN on a synchronized connection gets an ACK for the old sequence space.
  return { answer: 'challenge-ack', frame: reply.frame };
}

export const tupleReuse: Detector<TupleReuseOptions> = {
  id: 'tuple-reuse',
  title: '4-tuple reused inside TIME_WAIT',
  description: 'A new connection reused the 4-tuple of a previous one that was still in TIME_WAIT on one side.',
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['tuple-reuse'],
  evaluate(input, options) {
    // A few facts per reused connection, not its record (a storm of reuses would hold them all).
    const reused: Reuse[] = [];
    for (const f of flowsAt(input, flowIndex(input).reincarnatedPositions)) {
      const p = f.previous;
      if (p === undefined) continue;
      const tw = p.finalState.client === 'TIME_WAIT' || p.finalState.server === 'TIME_WAIT';
      if (!(tw && p.secondsSinceLastPacket < options.timeWaitSeconds)) continue;
      const { answer, frame } = reuseAnswer(f);
      const start = flowStart(f);
      // A routine flow (samples dropped) opened with its SYN: its start is the SYN's instant and frame.
      const dropped = samplesDropped(f);
      const syns = dropped ? [] : clientSyns(f);
      reused.push({
        id: f.id,
        client: f.client,
        server: f.server,
        previous: p,
        answer,
        frames: dropped ? [f.firstFrame] : [...syns.map((s) => s.frame), ...(frame !== undefined ? [frame] : [])],
        instants: dropped ? [start] : syns.map((s) => segmentInstant(f, s)),
        start,
      });
    }
    const findings: Finding[] = [];
    for (const [endpoint, flows] of groupByListener(input, reused, (r) => r)) {
      const tally: Record<string, number> = {};
      for (const r of flows) tally[r.answer] = (tally[r.answer] ?? 0) + 1;
      const tallyText = Object.entries(tally)
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([k, n]) => `${n} ${k}`)
        .join(', ');
      const gaps = flows.map((r) => r.previous.secondsSinceLastPacket);
      const allAccepted = (tally['accepted'] ?? 0) === flows.length;
      const frames = flows.flatMap((r) => r.frames);
      const instants = flows.flatMap((r) => r.instants);
      findings.push(
        makeFinding(tupleReuse, {
          severity: allAccepted ? 'info' : 'warning',
          summary: `${plural(flows.length, 'connection')} to ${endpoint} reused a 4-tuple still in TIME_WAIT, ${formatSeconds(minOf(gaps))} to ${formatSeconds(maxOf(gaps))} after the previous close; answered: ${tallyText}.`,
          explanation:
            'The side that closed first keeps the 4-tuple in TIME_WAIT for 2MSL so that old duplicates cannot be taken for a new connection (RFC 9293 §3.6.1). ' +
            'A new SYN on that tuple is accepted by Linux when its ISN (or timestamp, RFC 6191) is above the old connection\'s; otherwise the host answers with an ACK for the old connection (a challenge ACK, RFC 5961 §4), the client resets it and retries, which costs a retransmission timeout, or a RST.',
          causes: [
            'A client binding a fixed source port (bind() before connect(), SO_REUSEADDR) or a small port range, so tuples repeat quickly.',
            'Heavy connection churn exhausting the ephemeral range, so the kernel reuses ports still in TIME_WAIT (net.ipv4.tcp_tw_reuse).',
            'A NAT mapping many clients onto few ports.',
          ],
          checks: [
            'sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_tw_reuse net.ipv4.tcp_timestamps on the client',
            'ss -tan state time-wait on both hosts',
            'Whether the client binds a fixed local port, and any NAT between client and server',
          ],
          endpoint,
          flows: flows.map((r) => r.id),
          frames,
          count: flows.length,
          ...timeRange(instants.length > 0 ? instants : flows.map((r) => r.start)),
          fallbackFilter: `(${flows.slice(0, 10).map(flowFilter).join(' || ')}) && tcp.flags.syn==1`,
          details: {
            answers: tally,
            connections: flows.map((r) => ({
              flow: r.id,
              previousFlow: r.previous.flowId,
              secondsSincePreviousClose: r.previous.secondsSinceLastPacket,
              previousFinalState: r.previous.finalState,
              answer: r.answer,
            })),
          },
        }),
      );
    }
    return findings;
  },
};
