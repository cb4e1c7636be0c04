/**
 * ISO 8601 formatting of packet timestamps with a cache of the date-and-time part per whole second.
 *
 * Why the cache: building the `YYYY-MM-DDTHH:MM:SS` part through `Date` is the expensive bit, and
 * a capture's flows are emitted in bursts from the same few seconds of packet time (a flow's
 * start, end and transitions, and its neighbours', share a handful of seconds). The fraction is
 * appended with one integer-to-string conversion. Output is identical to `formatIsoTimestamp`.
 *
 * @module
 */

import { formatIsoTimestamp } from '../common/time.ts';

/** Seconds cached (a power of two): over an hour of capture, ~100 KB at most. */
const PREFIX_SLOTS = 4096;

/** Formats (seconds, nanoseconds) as ISO 8601 UTC with a fixed number of fractional digits. */
export class IsoFormatter {
  /**
   * Direct-mapped cache of prefixes by whole second (slot = second mod size): typed keys, because
   * epoch seconds (~1.7e9) are past V8's small-integer range and every Map lookup by them hashed a
   * heap number. A miss only costs one formatting.
   */
  private readonly prefixKeys = new Float64Array(PREFIX_SLOTS).fill(-1);
  private readonly prefixTexts = new Array<string>(PREFIX_SLOTS).fill('');
  /** 10^(9 - digits): nanoseconds per unit of the last fractional digit. */
  private readonly divisor: number;
  /** 10^digits: added before `toString` so leading zeros come for free, then sliced off. */
  private readonly pad: number;

  /** @param digits - fractional digits, 0..9 (6 for µs captures, 9 for ns captures). */
  constructor(private readonly digits: number) {
    const d = Math.max(0, Math.min(9, Math.trunc(digits)));
    this.divisor = 10 ** (9 - d);
    this.pad = 10 ** d;
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
    // Truncate (never round) to `digits`, as formatIsoTimestamp does.
    // One concatenation of the shared prefix with a short flat tail (".123456Z", under V8's
    // 13-character cons threshold): the result is a single 20-byte cons node over two flat
    // strings, where a template literal left a chain of three cons nodes per timestamp (V8 keeps
    // them unflattened while the record lives; ~60 bytes saved per timestamp).
    const units = Math.floor(tsNanos / this.divisor);
    const tail = '.' + String(this.pad + units).slice(1) + 'Z';
    return base + tail;
  }
}
