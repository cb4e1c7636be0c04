/**
 * ISO 8601 formatting of packet timestamps with a one-entry cache of the date-and-time part.
 *
 * Why the cache: flows are emitted in bursts from the same second of packet time, and building
 * the `YYYY-MM-DDTHH:MM:SS` part through `Date` is the expensive bit; a flow's start, end and
 * transitions usually share a second with the previous call.
 *
 * @module
 */

import { formatIsoTimestamp } from '../common/time.ts';

/** Formats (seconds, nanoseconds) as ISO 8601 UTC with a fixed number of fractional digits. */
export class IsoFormatter {
  private cachedSec = Number.NaN;
  private cachedBase = '';
  /** @param digits - fractional digits, 0..9 (6 for µs captures, 9 for ns captures). */
  constructor(private readonly digits: number) {}

  format(tsSec: number, tsNanos: number): string {
    if (tsSec !== this.cachedSec) {
      const full = formatIsoTimestamp(tsSec, 0, 0);
      this.cachedBase = full.slice(0, full.length - 1);
      this.cachedSec = tsSec;
    }
    if (this.digits <= 0) return `${this.cachedBase}Z`;
    const frac = String(tsNanos).padStart(9, '0').slice(0, Math.min(9, this.digits));
    return `${this.cachedBase}.${frac}Z`;
  }
}
