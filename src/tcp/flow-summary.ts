/**
 * Passes over every flow of a {@link FlowList} through its summaries (see `FlowList.scan`).
 */
import { formatAddress } from '../decode/address-text.ts';
import type { FlowList, FlowRecord, FlowSummary } from './types.ts';

/**
 * Calls `visit(summary, position)` for every flow of `flows`, in order: through the list's `scan`
 * when it has one (the flow store: one reused object, no record built), otherwise with each record
 * of a `for … of` (a record is a summary). `visit` must not keep the summary past its call; it
 * fetches `flows.at(position)` for a record to keep.
 */
export function scanFlows(flows: FlowList, visit: (flow: FlowSummary, position: number) => void): void {
  if (flows.scan !== undefined) {
    flows.scan(visit);
    return;
  }
  let position = 0;
  for (const flow of flows) visit(flow, position++);
}

/**
 * The record at `position` of a list being scanned ({@link scanFlows} just visited it, so it
 * exists); throws when the list breaks that contract.
 */
export function recordAt(flows: FlowList, position: number): FlowRecord {
  const record = flows.at(position);
  if (record === undefined) throw new Error(`flow list has no flow at position ${position} of its scan`);
  return record;
}

/**
 * The summary of the flow at `position` (see `FlowList.summaryAt`), or its record when the list
 * has no summaries; undefined when out of range. Its address keys are those `scanFlows` gives.
 */
export function summaryAt(flows: FlowList, position: number): FlowSummary | undefined {
  return flows.summaryAt !== undefined ? flows.summaryAt(position) : flows.at(position);
}

/** A flow's {@link FlowSummary.clientAddressKey}, or its client address text when it has none. */
export function clientAddressKey(flow: FlowSummary): number | string {
  return flow.clientAddressKey ?? flow.client.ip;
}

/** A flow's {@link FlowSummary.serverAddressKey}, or its server address text when it has none. */
export function serverAddressKey(flow: FlowSummary): number | string {
  return flow.serverAddressKey ?? flow.server.ip;
}

/**
 * The address key of four address words (IPv4 as IPv4-mapped IPv6): the IPv4 address as a
 * number (its 32 bits as a signed integer), or the 128 bits packed in eight UTF-16 units after a NUL (no address text starts with
 * one), which is much cheaper than formatting RFC 5952 text.
 */
export function addressKeyOfWords(w0: number, w1: number, w2: number, w3: number): number | string {
  // As int32, a small integer to V8 (no heap number per key); addressKeyText reads it back unsigned.
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return w3 | 0;
  return String.fromCharCode(0, w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff);
}

/**
 * FNV-1a of an address text's UTF-16 code units, as a signed 32-bit number: ~20 ns and no
 * allocation. Interning every client address instead (a Map, or a typed-array table of texts)
 * cost 0.3-1 µs per distinct address and 40-110 bytes each on a capture with one client per
 * connection, and the table's growth triggered a full garbage collection.
 */
export function addressHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * A number per address key, for per-flow typed-array columns: an IPv4 key is its own int32
 * (exact), a text key (IPv6, or a record's address text) its {@link addressHash}. Equal keys give
 * equal words; equal words of text keys are equal keys only almost always, so a reader checks.
 */
export function addressKeyWord(key: number | string): number {
  return typeof key === 'number' ? key | 0 : addressHash(key);
}

/** The address text of an address key (see {@link addressKeyOfWords}; other strings are text). */
export function addressKeyText(key: number | string): string {
  if (typeof key === 'number') return formatAddress(0, 0, 0xffff, key >>> 0);
  if (key.length !== 9 || key.charCodeAt(0) !== 0) return key;
  const word = (i: number): number => ((key.charCodeAt(i) << 16) | key.charCodeAt(i + 1)) >>> 0;
  return formatAddress(word(1), word(3), word(5), word(7));
}

/** How many segment samples the flow has (`segments.length`), without decoding them when the summary knows. */
export function sampledSegmentCount(flow: FlowSummary): number {
  return flow.sampledSegments ?? flow.segments.length;
}
