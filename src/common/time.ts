/**
 * Packet-time helpers. A timestamp is always (whole seconds since the epoch, nanoseconds within
 * that second): see CaptureRecord. Nothing here reads the wall clock.
 */

/**
 * Formats a timestamp as ISO 8601 UTC with `digits` fractional digits (0..9), truncating (never
 * rounding, so a time never moves into the next second): `2024-01-02T03:04:05.123456Z`.
 */
export function formatIsoTimestamp(tsSec: number, tsNanos: number, digits: number): string {
  const date = new Date(tsSec * 1000);
  // Total: a second count no Date can hold (a damaged timestamp) prints as plain epoch seconds
  // instead of throwing RangeError; the reader already warns about such records.
  if (Number.isNaN(date.getTime())) return `${tsSec}.${String(tsNanos).padStart(9, '0')}`;
  const base = date.toISOString().slice(0, 19);
  if (digits <= 0) return `${base}Z`;
  const frac = String(tsNanos).padStart(9, '0').slice(0, Math.min(9, digits));
  return `${base}.${frac}Z`;
}

/**
 * The timestamp an ISO 8601 UTC text as {@link formatIsoTimestamp} writes it stands for
 * (`2024-01-02T03:04:05.123456Z`, 0 to 9 fractional digits), to the nanosecond where Date.parse
 * keeps milliseconds; undefined for any other text.
 */
export function parseIsoTimestamp(text: string): { readonly sec: number; readonly nanos: number } | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(text);
  if (m === null) return undefined;
  const ms = Date.parse(`${m[1]!}Z`);
  if (!Number.isFinite(ms)) return undefined;
  return { sec: ms / 1000, nanos: m[2] === undefined ? 0 : Number(m[2].padEnd(9, '0')) };
}

/** Compares two timestamps: negative when a < b, 0 when equal, positive when a > b. */
export function compareTimestamps(aSec: number, aNanos: number, bSec: number, bNanos: number): number {
  return aSec !== bSec ? aSec - bSec : aNanos - bNanos;
}
