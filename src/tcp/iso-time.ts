/**
 * ISO 8601 formatting of packet timestamps with a cache of the date-and-time part per whole second.
 *
 * Why the cache: building the `YYYY-MM-DDTHH:MM:SS` part through `Date` is the expensive bit, and
 * a capture's flows are emitted in bursts from the same few seconds of packet time (a flow's
 * start, end and transitions, and its neighbours', share a handful of seconds). The fraction is
 * built from three-digit groups (see format). Output is identical to `formatIsoTimestamp`.
 *
 * @module
 */

import { formatIsoTimestamp } from '../common/time.ts';

/** Seconds cached (a power of two): over an hour of capture, ~100 KB at most. */
const PREFIX_SLOTS = 4096;

/** '000' .. '999': the fraction's digits, three at a time (see IsoFormatter.format). */
const DIGITS3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(1000 + i).slice(1));

/** Formats (seconds, nanoseconds) as ISO 8601 UTC with a fixed number of fractional digits. */
export class IsoFormatter {
  /**
   * Direct-mapped cache of prefixes by whole second (slot = second mod size): typed keys, because
   * epoch seconds (~1.7e9) are past V8's small-integer range and every Map lookup by them hashed a
   * heap number. A miss only costs one formatting.
   */
  private readonly prefixKeys = new Float64Array(PREFIX_SLOTS).fill(-1);
  private readonly prefixTexts = new Array<string>(PREFIX_SLOTS).fill('');
  /** Fractional digits written, 0..9. */
  private readonly fraction: number;

  /** @param digits - fractional digits, 0..9 (6 for µs captures, 9 for ns captures). */
  constructor(private readonly digits: number) {
    this.fraction = Math.max(0, Math.min(9, Math.trunc(digits)));
  }

  /** `YYYY-MM-DDTHH:MM:SS` of a whole second, cached. */
  private prefix(tsSec: number): string {
    const slot = tsSec & (PREFIX_SLOTS - 1);
    if (this.prefixKeys[slot] === tsSec) return this.prefixTexts[slot]!;
    const full = formatIsoTimestamp(tsSec, 0, 0);
    const p = full.slice(0, full.length - 1);
    this.prefixKeys[slot] = tsSec;
    this.prefixTexts[slot] = p;
    return p;
  }

  format(tsSec: number, tsNanos: number): string {
    const base = this.prefix(tsSec);
    if (this.digits <= 0) return `${base}Z`;
    // Truncated (never rounded) to `digits`, as formatIsoTimestamp does: the first digits of the
    // nanoseconds written with nine. Built from constant three-digit groups, never String(number):
    // V8 keeps each number it turns into a string in a cache that lives in old space, so every
    // timestamp's digits outlived two scavenges and ended as old-space garbage (37 MB while the
    // benchmark capture's JSON was written).
    // The tail (".123456Z") stays under V8's 13-character cons threshold, so it is flat, and the
    // result is a single 20-byte cons node over the shared prefix and the tail, where a template
    // literal left a chain of three cons nodes per timestamp (~60 bytes saved per timestamp).
    const nanos = tsNanos | 0; // 0 .. 999,999,999 (the CaptureRecord contract)
    const high = (nanos / 1_000_000) | 0;
    const d = this.fraction;
    let tail: string;
    if (d === 6) tail = '.' + DIGITS3[high]! + DIGITS3[((nanos / 1000) | 0) - high * 1000]! + 'Z';
    else if (d === 3) tail = '.' + DIGITS3[high]! + 'Z';
    else {
      const thousands = (nanos / 1000) | 0;
      const nine = DIGITS3[high]! + DIGITS3[thousands - high * 1000]! + DIGITS3[nanos - thousands * 1000]!;
      tail = '.' + (d === 9 ? nine : nine.slice(0, d)) + 'Z';
    }
    return base + tail;
  }
}
