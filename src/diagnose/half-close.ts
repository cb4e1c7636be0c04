/**
 * `half-close` (info): one side sent FIN and data kept flowing the other way. Legitimate
 * (shutdown(SHUT_WR), RFC 9293 §3.6): shown so it is not mistaken for a leak.
 */
import type { FlowRecord, FlowSummary, SegmentSample, Side } from '../tcp/types.ts';
import { flowIndex, flowsAt, groupByListener, matchFlows } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { HalfCloseOptions } from './options.ts';
import type { Detector, Finding } from './types.ts';
import { flowFilter, flowRef, isFin, makeFinding, plural, segmentInstant, timeRange, wasWere } from './util.ts';
import type { FlowRef, Instant } from './util.ts';

export interface HalfClose {
  /** The connection's id and endpoints (not its record). */
  readonly flow: FlowRef;
  readonly closer: Side;
  readonly finFrame: number;
  readonly dataFrames: readonly number[];
  readonly bytesAfterFin: number;
  readonly instants: readonly Instant[];
}

/**
 * True for a segment that carries data the other side sent after `fin` (the first sampled FIN):
 * new data (not a retransmission) up to that side's own FIN, since data the peer sends after it
 * has sent its own FIN is impossible.
 */
function isDataAfterFin(s: SegmentSample, fin: SegmentSample, peerFin: SegmentSample | undefined): boolean {
  return s.from !== fin.from && s.frame > fin.frame && s.len > 0 && s.retransmission === undefined && (peerFin === undefined || s.frame <= peerFin.frame);
}

/** The first sampled FIN of either side. */
function firstFin(flow: FlowSummary): SegmentSample | undefined {
  for (const s of flow.segments) if (isFin(s)) return s;
  return undefined;
}
/** The other side's first sampled FIN after `fin`. */
function peerFinAfter(flow: FlowSummary, fin: SegmentSample): SegmentSample | undefined {
  for (const s of flow.segments) if (s.from !== fin.from && isFin(s) && s.frame > fin.frame) return s;
  return undefined;
}

/** Payload bytes the other side sent after the first sampled FIN ({@link isDataAfterFin}); 0 without a sampled FIN. */
function halfCloseBytes(flow: FlowRecord, fin: SegmentSample): number {
  const peerFin = peerFinAfter(flow, fin);
  let bytes = 0;
  for (const s of flow.segments) if (isDataAfterFin(s, fin, peerFin)) bytes += s.len;
  return bytes;
}

/**
 * True when the other side sent data after the first sampled FIN ({@link isDataAfterFin}): what
 * a match with a positive `minBytes` needs. The shared pre-pass asks it of every sampled flow, so
 * it allocates nothing, tests the cheap fields first and stops at the first such segment.
 */
export function hasDataAfterFin(flow: FlowSummary): boolean {
  const fin = firstFin(flow);
  if (fin === undefined) return false;
  let peerFin: SegmentSample | undefined;
  let peerFinKnown = false;
  for (const s of flow.segments) {
    if (s.len <= 0 || s.from === fin.from || s.frame <= fin.frame || s.retransmission !== undefined) continue;
    if (!peerFinKnown) {
      peerFin = peerFinAfter(flow, fin);
      peerFinKnown = true;
    }
    if (peerFin === undefined || s.frame <= peerFin.frame) return true;
  }
  return false;
}

export function matchHalfClose(flow: FlowRecord, minBytes: number): HalfClose | undefined {
  const fin = firstFin(flow);
  if (fin === undefined) return undefined;
  // Most flows carry nothing after the first FIN: count before building anything.
  const bytes = halfCloseBytes(flow, fin);
  if (bytes < minBytes) return undefined;
  const peerFin = peerFinAfter(flow, fin);
  const data = flow.segments.filter((s) => isDataAfterFin(s, fin, peerFin));
  return {
    flow: flowRef(flow),
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
    // A match needs data after a sampled FIN when a positive amount is asked for (see
    // matchHalfClose); otherwise any sampled flow can match, and those are fetched by position.
    const index = flowIndex(input);
    const candidates = flowsAt(input, options.minBytesAfterFin > 0 ? index.halfClosedPositions : index.sampledPositions);
    const matches = matchFlows(candidates, (f) => matchHalfClose(f, options.minBytesAfterFin));
    const findings: Finding[] = [];
    for (const [endpoint, group] of groupByListener(input, matches, (m) => m.flow)) {
      const bytes = group.reduce((n, m) => n + m.bytesAfterFin, 0);
      const closers = [...new Set(group.map((m) => m.closer))].join(' and ');
      findings.push(
        makeFinding(halfClose, {
          summary: `${plural(group.length, 'connection')} of ${endpoint} ${wasWere(group.length)} half-closed by the ${closers}, and the other side sent ${plural(bytes, 'more byte')} after that FIN.`,
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
