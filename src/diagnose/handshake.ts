/** Handshake evidence read from segment samples, shared by the SYN-ACK and accept-queue detectors. */
import type { FlowRecord, SegmentSample } from '../tcp/types.ts';
import { hasFlag, isRst, isSyn, isSynAck } from './util.ts';

/** The first SYN-ACK the server sent, if captured. */
export function firstSynAck(flow: FlowRecord): SegmentSample | undefined {
  return flow.segments.find((s) => s.from === 'server' && isSynAck(s));
}

/**
 * The client's final handshake ACK (or its first data, which carries the same ACK): the first
 * client segment after the first SYN-ACK that has ACK set and neither SYN nor RST.
 */
export function clientFinalAck(flow: FlowRecord): SegmentSample | undefined {
  const synAck = firstSynAck(flow);
  if (synAck === undefined) return undefined;
  return flow.segments.find(
    (s) => s.from === 'client' && s.frame > synAck.frame && hasFlag(s.flags, 'A') && !hasFlag(s.flags, 'S') && !isRst(s),
  );
}

/** Server SYN-ACKs sent after the given frame (resends). */
export function synAcksAfter(flow: FlowRecord, frame: number): SegmentSample[] {
  return flow.segments.filter((s) => s.from === 'server' && isSynAck(s) && s.frame > frame);
}

/** All client SYNs captured. */
export function clientSyns(flow: FlowRecord): SegmentSample[] {
  return flow.segments.filter((s) => s.from === 'client' && isSyn(s));
}
