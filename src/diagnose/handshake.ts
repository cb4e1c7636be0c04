/** Handshake evidence read from segment samples, shared by the SYN-ACK and accept-queue detectors. */
import type { FlowRecord, FlowSummary, SegmentSample } from '../tcp/types.ts';
import { hasFlag, isFin, isRst, isSyn, isSynAck } from './util.ts';

/** The first SYN-ACK the server sent, if captured. */
export function firstSynAck(flow: FlowSummary): SegmentSample | undefined {
  return flow.segments.find((s) => s.from === 'server' && isSynAck(s));
}

/**
 * The server's SND.NXT just before `frame` (relative): the highest seq + len (+1 for SYN and FIN)
 * over the server segments sampled before it. An ACK above it acknowledges nothing the server sent.
 */
function serverNextBefore(flow: FlowRecord, frame: number): number {
  let next = 0;
  for (const s of flow.segments) {
    if (s.frame >= frame) break;
    if (s.from !== 'server') continue;
    const end = s.seq + s.len + (hasFlag(s.flags, 'S') || isFin(s) ? 1 : 0);
    if (end > next) next = end;
  }
  return next;
}

/**
 * The client's final handshake ACK (or its first data, which carries the same ACK): the first
 * client segment after the first SYN-ACK that has ACK set and neither SYN nor RST, and whose ACK is
 * acceptable in SYN_RECEIVED (RFC 9293 §3.10.7.4: SND.UNA < SEG.ACK =< SND.NXT, i.e. it
 * acknowledges the SYN-ACK and nothing the server never sent). A segment with a bogus ACK (crafted
 * captures, a client answering another incarnation) does not complete the handshake.
 */
export function clientFinalAck(flow: FlowRecord): SegmentSample | undefined {
  const synAck = firstSynAck(flow);
  if (synAck === undefined) return undefined;
  return flow.segments.find(
    (s) =>
      s.from === 'client' &&
      s.frame > synAck.frame &&
      hasFlag(s.flags, 'A') &&
      !hasFlag(s.flags, 'S') &&
      !isRst(s) &&
      s.ack >= 1 &&
      s.ack <= serverNextBefore(flow, s.frame),
  );
}

/** Server SYN-ACKs sent after the given frame (resends). */
export function synAcksAfter(flow: FlowRecord, frame: number): SegmentSample[] {
  return flow.segments.filter((s) => s.from === 'server' && isSynAck(s) && s.frame > frame);
}

/**
 * Server SYN-ACKs after the given frame that the server sent on its own retransmission timer: a
 * SYN-ACK that directly follows a client SYN (a SYN retransmission) is an answer to it, not a resend.
 */
export function timerSynAcksAfter(flow: FlowRecord, frame: number): SegmentSample[] {
  const out: SegmentSample[] = [];
  for (let i = 0; i < flow.segments.length; i++) {
    const s = flow.segments[i]!;
    if (s.from !== 'server' || !isSynAck(s) || s.frame <= frame) continue;
    const prev = flow.segments[i - 1];
    if (prev !== undefined && prev.from === 'client' && isSyn(prev)) continue;
    out.push(s);
  }
  return out;
}

/** All client SYNs captured. */
export function clientSyns(flow: FlowRecord): SegmentSample[] {
  return flow.segments.filter((s) => s.from === 'client' && isSyn(s));
}

/**
 * True when the client, after its SYN, sent a segment carrying an ACK (no SYN, no RST) although no
 * SYN-ACK was captured: it received an answer that the capture missed (the server-to-client
 * direction was not captured), since a client in SYN_SENT sends nothing but SYNs.
 */
export function clientActsConnected(flow: FlowSummary): boolean {
  if (flow.counts.synAck > 0 || firstSynAck(flow) !== undefined) return false;
  const syn = flow.segments.find((s) => s.from === 'client' && isSyn(s));
  if (syn === undefined) return false;
  return flow.segments.some((s) => s.from === 'client' && s.frame > syn.frame && hasFlag(s.flags, 'A') && !hasFlag(s.flags, 'S') && !isRst(s));
}
