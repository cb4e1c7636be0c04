/**
 * Small helpers shared by the detectors: reading segment samples, endpoint and time text, and
 * building a {@link Finding} with capped evidence and an exact Wireshark filter.
 * Everything here is pure.
 */
import type { Endpoint, FlowRecord, SegmentSample, Side } from '../tcp/types.ts';
import { MAX_FINDING_FLOWS, MAX_FINDING_FRAMES } from './types.ts';
import type { Detector, Finding, Severity } from './types.ts';
import { formatIsoTimestamp } from '../common/time.ts';

/** True when the flags text (letters F S R P A U E C N, see `flagsToText`) has the given letter. */
export function hasFlag(flags: string, letter: 'F' | 'S' | 'R' | 'P' | 'A'): boolean {
  return flags.includes(letter);
}

/** A SYN without ACK (a client's connection request). */
export function isSyn(s: SegmentSample): boolean {
  return hasFlag(s.flags, 'S') && !hasFlag(s.flags, 'A');
}

/** A SYN-ACK. */
export function isSynAck(s: SegmentSample): boolean {
  return hasFlag(s.flags, 'S') && hasFlag(s.flags, 'A');
}

export function isRst(s: SegmentSample): boolean {
  return hasFlag(s.flags, 'R');
}

export function isFin(s: SegmentSample): boolean {
  return hasFlag(s.flags, 'F');
}

/** The other endpoint role. */
export function peerOf(side: Side): Side {
  return side === 'client' ? 'server' : 'client';
}

/** True for an IPv6 address text. */
export function isIpv6(ip: string): boolean {
  return ip.includes(':');
}

/** `ip:port`, with brackets around IPv6 addresses (`[2001:db8::1]:443`). */
export function endpointText(ep: Endpoint): string {
  return isIpv6(ep.ip) ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

/** The Wireshark field prefix for an address: `ip` or `ipv6`. */
export function ipField(ip: string): 'ip' | 'ipv6' {
  return isIpv6(ip) ? 'ipv6' : 'ip';
}

/** Display filter for a listener (`ip.addr==10.0.0.1 && tcp.port==80`). */
export function listenerFilter(ep: Endpoint): string {
  return `${ipField(ep.ip)}.addr==${ep.ip} && tcp.port==${ep.port}`;
}

/** Display filter naming exactly one flow's 4-tuple. */
export function flowFilter(flow: Pick<FlowRecord, 'client' | 'server'>): string {
  const f = ipField(flow.client.ip);
  return `(${f}.addr==${flow.client.ip} && tcp.port==${flow.client.port} && ${f}.addr==${flow.server.ip} && tcp.port==${flow.server.port})`;
}

/** Absolute epoch seconds of a segment sample. */
export function segmentSeconds(flow: FlowRecord, s: SegmentSample): number {
  return flow.startSeconds + s.relSeconds;
}

/**
 * ISO 8601 UTC text of epoch seconds, to the microsecond. Used for evidence times computed from
 * segment samples (flow start + relSeconds); when the instant is a flow's start or a transition,
 * prefer their exact `ts` text.
 */
export function isoFromSeconds(seconds: number): string {
  const micros = Math.round(seconds * 1e6);
  const wholeSeconds = Math.floor(micros / 1e6);
  return formatIsoTimestamp(wholeSeconds, (micros - wholeSeconds * 1e6) * 1000, 6);
}

/** ISO time of a segment of a flow (the flow's own `start` text for its first packet). */
export function segmentIso(flow: FlowRecord, s: SegmentSample): string {
  return s.relSeconds === 0 ? flow.start : isoFromSeconds(segmentSeconds(flow, s));
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * `Math.max(...values)` without spreading the values into arguments, which throws a RangeError
 * ("Maximum call stack size exceeded") past about 120,000 of them: a group of a finding can hold
 * every connection of a busy listener. Same result: -Infinity when empty, NaN with a NaN, 0 over -0.
 */
export function maxOf(values: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (Number.isNaN(v)) return Number.NaN;
    if (v > m || (v === 0 && m === 0 && Object.is(m, -0))) m = v;
  }
  return m;
}

/** `Math.min(...values)` without the spread (see {@link maxOf}): Infinity when empty, -0 under 0. */
export function minOf(values: readonly number[]): number {
  let m = Number.POSITIVE_INFINITY;
  for (const v of values) {
    if (Number.isNaN(v)) return Number.NaN;
    if (v < m || (v === 0 && m === 0 && Object.is(v, -0))) m = v;
  }
  return m;
}

/** Rounds to `digits` decimals for display and JSON details. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Human duration: `850 ms`, `4.2 s`, `3.5 min`, `2.1 h`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${round(seconds, 1)} s`;
  if (seconds < 7200) return `${round(seconds / 60, 1)} min`;
  return `${round(seconds / 3600, 1)} h`;
}

/** `1 connection`, `3 connections`. */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

/** The verb after {@link plural}: "1 connection was", "2 connections were". */
export function wasWere(n: number): string {
  return agree(n, 'was', 'were');
}

/** How often, in words: "once", "twice", "3 times". */
export function timesText(n: number): string {
  return n === 1 ? 'once' : n === 2 ? 'twice' : plural(n, 'time');
}

/** The verb form that agrees with a count of `n`: `one` for 1, `many` otherwise ("has"/"have", "goes"/"go"). */
export function agree(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/** One severity level lower (error → warning → info → info). */
export function downgrade(severity: Severity): Severity {
  return severity === 'error' ? 'warning' : 'info';
}

/** Groups items by a string key, keeping first-seen key order and item order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Everything a detector decides about one finding; {@link makeFinding} does the capping. */
export interface FindingParts {
  readonly severity?: Severity;
  readonly summary: string;
  readonly explanation: string;
  readonly causes: readonly string[];
  readonly checks: readonly string[];
  readonly endpoint: string;
  /** All flow ids concerned (capped here at {@link MAX_FINDING_FLOWS}). */
  readonly flows: readonly number[];
  /** All evidence frame numbers (deduplicated, sorted and capped here). */
  readonly frames: readonly number[];
  readonly count: number;
  readonly firstTs: string;
  readonly lastTs: string;
  /**
   * Filter used when the evidence frames are too many for `frame.number in {...}`: a field filter
   * as precise as the detector can make it.
   */
  readonly fallbackFilter: string;
  /** Set when the evidence depends on a capture gap; the severity is then downgraded one level. */
  readonly caveat?: string | undefined;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Builds a finding from a detector's metadata and its parts. The Wireshark filter is
 * `frame.number in {…}` over every evidence frame when they fit in {@link MAX_FINDING_FRAMES}
 * (exact), else the detector's field filter. A caveat downgrades the severity one level.
 */
export function makeFinding(detector: Pick<Detector<object>, 'id' | 'title' | 'severity'>, parts: FindingParts): Finding {
  const frames = [...new Set(parts.frames)].sort((a, b) => a - b);
  const flows = [...new Set(parts.flows)].sort((a, b) => a - b);
  const base = parts.severity ?? detector.severity;
  const severity = parts.caveat !== undefined ? downgrade(base) : base;
  const wiresharkFilter =
    frames.length > 0 && frames.length <= MAX_FINDING_FRAMES ? `frame.number in {${frames.join(' ')}}` : parts.fallbackFilter;
  const finding: Finding = {
    id: detector.id,
    severity,
    title: detector.title,
    summary: parts.summary,
    explanation: parts.explanation,
    causes: parts.causes,
    checks: parts.checks,
    endpoint: parts.endpoint,
    flows: flows.slice(0, MAX_FINDING_FLOWS),
    frames: frames.slice(0, MAX_FINDING_FRAMES),
    framesTotal: frames.length,
    count: parts.count,
    firstTs: parts.firstTs,
    lastTs: parts.lastTs,
    wiresharkFilter,
    ...(parts.caveat !== undefined ? { caveat: parts.caveat } : {}),
    ...(parts.details !== undefined ? { details: parts.details } : {}),
  };
  return finding;
}

/** An evidence instant: epoch seconds for comparing, ISO text for showing. */
export interface Instant {
  readonly seconds: number;
  readonly iso: string;
}

/** What a finding needs of a connection: its id and endpoints (not its record). */
export type FlowRef = Pick<FlowRecord, 'id' | 'client' | 'server'>;

/** The {@link FlowRef} of a flow. */
export function flowRef(flow: FlowRecord): FlowRef {
  return { id: flow.id, client: flow.client, server: flow.server };
}

/**
 * What a detector keeps of a matched connection instead of its record (see `flowIndex`): its id,
 * its listener, and its evidence segments (frames and instants, in capture order).
 */
export interface ConnectionEvidence {
  readonly id: number;
  readonly server: Endpoint;
  readonly frames: readonly number[];
  readonly instants: readonly Instant[];
  /** The connection's first packet, for a time range when no evidence segment was sampled. */
  readonly start: Instant;
}

/** The {@link ConnectionEvidence} of a flow, with `segments` (its samples) as evidence. */
export function connectionEvidence(flow: FlowRecord, segments: readonly SegmentSample[]): ConnectionEvidence {
  return {
    id: flow.id,
    server: flow.server,
    frames: segments.map((s) => s.frame),
    instants: segments.map((s) => segmentInstant(flow, s)),
    start: flowStart(flow),
  };
}

/** Instant of a segment sample. */
export function segmentInstant(flow: FlowRecord, s: SegmentSample): Instant {
  return { seconds: segmentSeconds(flow, s), iso: segmentIso(flow, s) };
}

/** Instants of a flow's first and last packet. */
export function flowStart(flow: FlowRecord): Instant {
  return { seconds: flow.startSeconds, iso: flow.start };
}
export function flowEnd(flow: FlowRecord): Instant {
  return { seconds: flow.endSeconds, iso: flow.end };
}

/** Earliest and latest of a non-empty list of instants, as ISO text. */
export function timeRange(instants: readonly Instant[]): { firstTs: string; lastTs: string } {
  let first = instants[0];
  let last = first;
  for (const t of instants) {
    if (first === undefined || t.seconds < first.seconds) first = t;
    if (last === undefined || t.seconds > last.seconds) last = t;
  }
  return { firstTs: first?.iso ?? '', lastTs: last?.iso ?? '' };
}

/** Segments of one side, in capture order. */
export function segmentsFrom(flow: FlowRecord, side: Side): SegmentSample[] {
  return flow.segments.filter((s) => s.from === side);
}
