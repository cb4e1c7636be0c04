/**
 * `half-close` (info): one side sent FIN and data kept flowing the other way. Legitimate
 * (shutdown(SHUT_WR), RFC 9293 §3.6): shown so it is not mistaken for a leak.
 */
import type { FlowRecord, SegmentSample, Side } from '../tcp/types.ts';
import { flowIndex, groupByListener } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { HalfCloseOptions } from './options.ts';
import type { Detector, Finding } from './types.ts';
import { isFin, makeFinding, flowFilter, plural, segmentInstant, timeRange } from './util.ts';
import type { Instant } from './util.ts';

export interface HalfClose {
  readonly flow: FlowRecord;
  readonly closer: Side;
  readonly finFrame: number;
  readonly dataFrames: readonly number[];
  readonly bytesAfterFin: number;
  readonly instants: readonly Instant[];
}

export function matchHalfClose(flow: FlowRecord, minBytes: number): HalfClose | undefined {
  const fin = flow.segments.find((s) => isFin(s));
  if (fin === undefined) return undefined;
  // Data the peer sends after it has sent its own FIN is impossible; stop at the peer's FIN.
  const peerFin = flow.segments.find((s) => s.from !== fin.from && isFin(s) && s.frame > fin.frame);
  const isData = (s: SegmentSample): boolean =>
    s.from !== fin.from && s.frame > fin.frame && s.len > 0 && s.retransmission === undefined && (peerFin === undefined || s.frame <= peerFin.frame);
  // Most flows carry nothing after the first FIN: count before building anything.
  let bytes = 0;
  for (const s of flow.segments) if (isData(s)) bytes += s.len;
  if (bytes < minBytes) return undefined;
  const data = flow.segments.filter(isData);
  return {
    flow,
    closer: fin.from,
    finFrame: fin.frame,
    dataFrames: data.map((s) => s.frame),
    bytesAfterFin: bytes,
    instants: [fin, ...data].map((s) => segmentInstant(flow, s)),
  };
}

export const halfClose: Detector<HalfCloseOptions> = {
  id: 'half-close',
  title: 'Half-closed connections',
  description: 'One side sent FIN and data kept flowing the other way (shutdown(SHUT_WR)): legitimate, not a leak.',
  severity: 'info',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['half-close'],
  evaluate(input, options) {
    // A match needs a sampled FIN (see matchHalfClose).
    const matches = flowIndex(input).sampled.map((f) => matchHalfClose(f, options.minBytesAfterFin)).filter((m) => m !== undefined);
    const findings: Finding[] = [];
    for (const [endpoint, group] of groupByListener(input, matches, (m) => m.flow)) {
      const bytes = group.reduce((n, m) => n + m.bytesAfterFin, 0);
      const closers = [...new Set(group.map((m) => m.closer))].join(' and ');
      findings.push(
        makeFinding(halfClose, {
          summary: `${plural(group.length, 'connection')} of ${endpoint} were half-closed by the ${closers}, and the other side sent ${plural(bytes, 'more byte')} after that FIN.`,
          explanation:
            'A FIN only says "I will send no more" (RFC 9293 §3.6): the other direction stays open until its own FIN. Protocols use this deliberately (shutdown(SHUT_WR) to mark the end of a request). ' +
            'The receiving side is in CLOSE_WAIT while it keeps sending, which is normal here and not a socket leak as long as it closes at the end.',
          causes: ['An application protocol that signals the end of a request with shutdown(SHUT_WR) (e.g. some RPC, rsync, netcat -N).'],
          checks: ['Nothing to fix if the connection closes at the end; otherwise see close-wait-leak.'],
          endpoint,
          flows: group.map((m) => m.flow.id),
          frames: group.flatMap((m) => [m.finFrame, ...m.dataFrames]),
          count: group.length,
          ...timeRange(group.flatMap((m) => m.instants)),
          fallbackFilter: `(${group.slice(0, 10).map((m) => flowFilter(m.flow)).join(' || ')}) && (tcp.flags.fin==1 || tcp.len>0)`,
          details: { connections: group.map((m) => ({ flow: m.flow.id, closer: m.closer, finFrame: m.finFrame, bytesAfterFin: m.bytesAfterFin })) },
        }),
      );
    }
    return findings;
  },
};
