/**
 * Boundary types of the diagnose stage: a {@link FlowList} of closed flows and capture facts in,
 * {@link Finding}s out. Detectors are pure: no I/O, no clock, no randomness.
 */
import type { FlowList } from '../tcp/types.ts';
import type { CaptureFacts } from '../report/model.ts';

export type Severity = 'info' | 'warning' | 'error';

/** One diagnosis a support engineer can act on: the `findings[]` entry of `tcpmortem/1`. */
export interface Finding {
  /** The detector's stable kebab-case id, e.g. `close-wait-leak`. */
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  /** One plain sentence with the numbers. */
  readonly summary: string;
  /** What happened on the wire, why it matters, the RFC 9293 or kernel behaviour behind it. */
  readonly explanation: string;
  /** Likely root causes, most likely first. */
  readonly causes: readonly string[];
  /** What to run or look at next. */
  readonly checks: readonly string[];
  /** The service `ip:port` (or host) the finding concerns. */
  readonly endpoint: string;
  /** Flow ids concerned (capped; `count` is exact). */
  readonly flows: readonly number[];
  /** Frame numbers of the evidence (capped at {@link MAX_FINDING_FRAMES}); `framesTotal` is exact. */
  readonly frames: readonly number[];
  readonly framesTotal: number;
  /** How many occurrences (connections, segments, episodes: the summary says which). */
  readonly count: number;
  /** ISO 8601 UTC of the first and last evidence. */
  readonly firstTs: string;
  readonly lastTs: string;
  /** A Wireshark display filter that shows exactly the evidence packets. */
  readonly wiresharkFilter: string;
  /** Set when the evidence depends on a capture gap (drops, one direction missing ...): says which. */
  readonly caveat?: string;
  /** Detector-specific numbers (retry times, episode lists, ages ...), JSON-serialisable. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export const MAX_FINDING_FRAMES = 50;
export const MAX_FINDING_FLOWS = 200;

/**
 * What every detector gets: all flows of the capture in id order, and the capture facts.
 *
 * `flows` may be the compact flow store, which builds a record on every access (see
 * {@link FlowList}): a detector does not walk it itself (only a threshold below 1, which makes
 * every flow a candidate, does). It reads the shared pre-pass (`flowIndex` in aggregates.ts: the
 * one walk over the list, memoised per list), whose candidate lists hold positions; it builds the
 * records of its candidates one at a time (`flowsAt`) and keeps a few facts of each match, not the
 * record (a storm can make every connection a candidate). Records are compared by `id`, never by
 * identity, and never mutated.
 */
export interface DetectorInput {
  readonly flows: FlowList;
  readonly capture: CaptureFacts;
}

/** A detector plugin: metadata plus a pure evaluation. Listed in `registry.ts`, never discovered. */
export interface Detector<O extends object = Record<string, number>> {
  /** Stable kebab-case id; never changes once shipped. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** Default severity of its findings (a finding may downgrade itself, e.g. with a caveat). */
  readonly severity: Severity;
  /** Thresholds, each documented with its unit in the detector's file. */
  readonly defaultOptions: Readonly<O>;
  evaluate(input: DetectorInput, options: Readonly<O>): readonly Finding[];
}

/** Outcome of running one detector: the `detectors[]` entry of `tcpmortem/1`. */
export interface DetectorRun {
  readonly id: string;
  readonly status: 'ok' | 'error';
  readonly findings: number;
  /** The exception message when status is 'error'. */
  readonly error?: string;
}

/** Stable ids of capture-quality items (what the capture can and cannot show). */
export type QualityItemId =
  | 'started-mid-connection'
  | 'one-direction-missing'
  | 'capture-drops'
  | 'snaplen-truncated'
  | 'duplicate-frames'
  | 'timestamps-backwards'
  | 'partial-capture';

/** One limit of the capture, shown before the findings. */
export interface QualityItem {
  readonly id: QualityItemId;
  readonly severity: Severity;
  /** One plain sentence with the number and what it means for the diagnoses. */
  readonly message: string;
  /** Connections, packets or drops concerned (the message says which). */
  readonly count: number;
}

/**
 * What the capture can and cannot show: the `quality` section of `tcpmortem/1`. An empty `items`
 * means no gap was detected. Findings whose evidence depends on one of these gaps carry a `caveat`
 * and are downgraded one severity level.
 */
export interface CaptureQuality {
  readonly items: readonly QualityItem[];
}
