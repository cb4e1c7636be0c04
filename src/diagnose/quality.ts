/**
 * Capture quality: what the capture can and cannot show, computed before the findings, and the
 * caveat a finding carries when its evidence depends on one of those gaps.
 */
import type { FlowRecord, FlowSummary } from '../tcp/types.ts';
import { flowIndex } from './aggregates.ts';
import { clientActsConnected } from './handshake.ts';
import type { CaptureQuality, DetectorInput, QualityItem } from './types.ts';
import { agree, plural, wasWere } from './util.ts';

/**
 * Anomaly names (from the reader/decoder or the flow tracker) that mean the same packet was
 * captured more than once, e.g. one pcapng with two interfaces on the same path.
 */
const DUPLICATE_ANOMALY = /dup(licate)?_(packet|frame|segment)|same_packet/;

/**
 * A flow that has packets in one direction only and whose other direction certainly existed: its
 * handshake was not captured (the capture saw one half of an established conversation), or the
 * client sent ACKs after its SYN although no SYN-ACK was captured (it got an answer the capture
 * missed). Causes: asymmetric routing, a one-way SPAN port, a BPF filter on one direction. A
 * SYN-only flow is not counted: an unanswered SYN is normal.
 */
export function isOneWayFlow(flow: FlowSummary): boolean {
  if (flow.packets.client !== 0 && flow.packets.server !== 0) return false;
  return flow.handshake === 'not_seen' || clientActsConnected(flow);
}

/** Sum of anomaly counts whose name says "duplicate packet". */
export function duplicateFrames(input: DetectorInput): number {
  let n = 0;
  for (const [name, count] of Object.entries(input.capture.anomalies)) if (DUPLICATE_ANOMALY.test(name)) n += count;
  return n;
}

/**
 * Computes the capture-quality section. Pure; items in a fixed order. The per-flow counts come from
 * the shared pre-pass ({@link flowIndex}), which this first call of a diagnosis starts.
 */
export function assessCaptureQuality(input: DetectorInput): CaptureQuality {
  const items: QualityItem[] = [];
  const { capture } = input;
  const index = flowIndex(input);
  const midStream = index.startedMidConnection;
  const oneWay = index.oneWay;
  if (midStream > 0) {
    items.push({
      id: 'started-mid-connection',
      severity: 'info',
      count: midStream,
      message: `${plural(midStream, 'connection')} started before the capture: their handshake, roles and early states are inferred, not seen.`,
    });
  }
  if (oneWay > 0) {
    items.push({
      id: 'one-direction-missing',
      severity: 'warning',
      count: oneWay,
      message: `${plural(oneWay, 'connection')} ${agree(oneWay, 'shows', 'show')} packets in one direction only: missing answers there say nothing about the peer.`,
    });
  }
  if (capture.drops !== null && capture.drops > 0) {
    items.push({
      id: 'capture-drops',
      severity: 'warning',
      count: capture.drops,
      message: `The capture reports ${plural(capture.drops, 'dropped packet')}: a packet missing from it may still have been on the wire.`,
    });
  }
  if (capture.truncatedPackets > 0) {
    items.push({
      id: 'snaplen-truncated',
      severity: 'info',
      count: capture.truncatedPackets,
      message: `${plural(capture.truncatedPackets, 'packet')} ${wasWere(capture.truncatedPackets)} cut by the snapshot length: payload lengths come from the IP header, payload bytes are not available.`,
    });
  }
  const dups = duplicateFrames(input);
  if (dups > 0) {
    items.push({
      id: 'duplicate-frames',
      severity: 'warning',
      count: dups,
      message: `${plural(dups, 'packet')} ${wasWere(dups)} captured twice (several interfaces on one path?): a copy can look like a retransmission.`,
    });
  }
  if (capture.timestampsBackwards > 0) {
    items.push({
      id: 'timestamps-backwards',
      severity: 'warning',
      count: capture.timestampsBackwards,
      message: `${plural(capture.timestampsBackwards, 'packet')} ${agree(capture.timestampsBackwards, 'has', 'have')} a timestamp earlier than the packet before: time gaps and retry intervals may be off.`,
    });
  }
  if (capture.partial) {
    items.push({
      id: 'partial-capture',
      severity: 'warning',
      count: 1,
      message: 'Reading stopped before the end of the capture: connections open at the cut may have closed later.',
    });
  }
  return { items };
}

/**
 * What a finding's evidence rests on:
 * - `absence`: a packet that is missing (no answer, no FIN, no ACK): drops, one-way capture and a
 *   cut capture can fake it;
 * - `repetition`: a packet seen twice (a retransmission): duplicated frames can fake it;
 * - `timing`: gaps between packets: timestamps going backwards distort them.
 */
export type EvidenceKind = 'absence' | 'repetition' | 'timing';

/**
 * The caveat for a finding whose evidence is of the given kinds and concerns these flows, or
 * undefined when the capture has no gap that matters. Text names each gap.
 */
export function qualityCaveat(input: DetectorInput, flows: readonly FlowRecord[], kinds: readonly EvidenceKind[]): string | undefined {
  return qualityCaveatOf(input, kinds.includes('absence') ? flows.filter(isOneWayFlow).length : 0, kinds);
}

/**
 * {@link qualityCaveat} given how many of the finding's connections were captured one way only
 * ({@link isOneWayFlow}): for a detector that keeps a few facts of each match, not its record.
 */
export function qualityCaveatOf(input: DetectorInput, oneWay: number, kinds: readonly EvidenceKind[]): string | undefined {
  const reasons: string[] = [];
  const { capture } = input;
  if (kinds.includes('absence')) {
    if (capture.drops !== null && capture.drops > 0) reasons.push(`the capture dropped ${plural(capture.drops, 'packet')}`);
    if (oneWay > 0) reasons.push(`${plural(oneWay, 'connection')} here ${wasWere(oneWay)} captured in one direction only`);
    if (capture.partial) reasons.push('the capture was cut short');
  }
  if (kinds.includes('repetition')) {
    const dups = duplicateFrames(input);
    if (dups > 0) reasons.push(`${plural(dups, 'packet')} ${wasWere(dups)} captured twice, so a copy may pass for a retransmission`);
  }
  if (kinds.includes('timing') && capture.timestampsBackwards > 0) {
    reasons.push(`${plural(capture.timestampsBackwards, 'timestamp')} ${agree(capture.timestampsBackwards, 'goes', 'go')} backwards`);
  }
  if (reasons.length === 0) return undefined;
  return `Evidence depends on a capture gap: ${reasons.join('; ')}.`;
}
