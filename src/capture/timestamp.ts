/**
 * Exact conversion of capture timestamps (a count of units since the epoch) into the
 * `tsSec` + `tsNanos` pair of {@link CaptureRecord}.
 *
 * Representation choice: a pcapng timestamp is a 64-bit count of units (`if_tsresol`), handed to
 * us as two 32-bit halves. Nanoseconds since the epoch passed 2^53 in 1970 + 104 days, so
 * `hi * 2^32 + lo` is not exact as a number. We never build that sum when it could exceed 2^53:
 * we divide the 64-bit value by the units per second with schoolbook long division in base 2^16
 * on plain numbers (every intermediate stays below 2^53, so every step is exact). The division
 * of the high half is cached per interface, so a record costs one division. BigInt is used
 * only for resolutions finer than 2^-32 s (e.g. picoseconds), which real captures do not use; it
 * is never on the path of µs, ns or binary resolutions up to 2^-32.
 *
 * @module
 */

import type { CaptureRecord } from './types.ts';

const TWO_32 = 4294967296;

/** Per-interface timestamp converter, precomputed once when the interface is declared. */
export interface TimestampScale {
  /** Units per second (1e6, 1e9, 2^k, ...). */
  readonly unitsPerSecond: number;
  /** Nanoseconds per unit (exact for 10^-n with n <= 9 and for 2^-k with k <= 32); 0 on the BigInt path. */
  readonly nanosPerUnit: number;
  /** True when units are finer than 2^-32 s: the BigInt path. */
  readonly useBigInt: boolean;
  /** `if_tsoffset` in whole seconds, added to every timestamp. */
  readonly offsetSeconds: number;
  /** Units per second as an exact bigint, for the BigInt path (10^n is not exact as a number past 10^22). */
  readonly unitsPerSecondBig: bigint;
  /** Cache of {@link divideHigh}: the last high half seen, and hi * 2^32 / units as quotient and remainder. */
  cachedHi: number;
  cachedSeconds: number;
  cachedRemainder: number;
}

/**
 * Builds the converter for a resolution given as in pcapng `if_tsresol`: `base` 10 or 2 and the
 * negative exponent (`exponent` 6 means 10^-6 s).
 */
export function createTimestampScale(base: 10 | 2, exponent: number, offsetSeconds: number): TimestampScale {
  const unitsPerSecond = base === 10 ? 10 ** exponent : 2 ** exponent;
  const useBigInt = unitsPerSecond > TWO_32 || !Number.isSafeInteger(unitsPerSecond);
  // 1e9 / 10^n is an integer for n <= 9, and 1e9 / 2^k = 1953125 * 2^(9-k) is an exact binary
  // fraction, so `units * nanosPerUnit` is exact whenever the product stays below 2^53.
  const nanosPerUnit = useBigInt ? 0 : 1e9 / unitsPerSecond;
  const unitsPerSecondBig = base === 10 ? 10n ** BigInt(exponent) : 2n ** BigInt(exponent);
  return {
    unitsPerSecond,
    nanosPerUnit,
    useBigInt,
    offsetSeconds,
    unitsPerSecondBig,
    cachedHi: -1,
    cachedSeconds: 0,
    cachedRemainder: 0,
  };
}

/** Digits after the decimal point a resolution can express, capped at 9 (we keep nanoseconds). */
export function precisionDigits(base: 10 | 2, exponent: number): number {
  const digits = base === 10 ? exponent : Math.ceil(exponent * Math.log10(2));
  return Math.min(9, Math.max(0, digits));
}

/**
 * Writes `tsSec` and `tsNanos` of `record` from a 64-bit unit count split in two unsigned 32-bit
 * halves. Sub-nanosecond parts are truncated. Allocation-free except on the BigInt path.
 */
export function setTimestamp(record: CaptureRecord, hi: number, lo: number, scale: TimestampScale): void {
  if (scale.useBigInt) {
    setTimestampBig(record, hi, lo, scale);
    return;
  }
  const units = scale.unitsPerSecond;
  if (hi !== scale.cachedHi) divideHigh(hi, scale);
  // hi * 2^32 = cachedSeconds * units + cachedRemainder, with cachedRemainder < units <= 2^32,
  // so the rest below is < 2^33: one exact division per record.
  const rest = scale.cachedRemainder + lo;
  const q = Math.floor(rest / units);
  record.tsSec = scale.cachedSeconds + q + scale.offsetSeconds;
  record.tsNanos = Math.floor((rest - q * units) * scale.nanosPerUnit);
}

/**
 * Divides hi * 2^32 by the units per second with long division in base 2^16 and caches the
 * quotient and remainder on the scale. The high half changes only every 2^32 units (71 minutes
 * at µs, 4.3 s at ns), so this runs rarely. Each partial dividend is r * 65536 + digit with
 * r < units <= 2^32, so below 2^48: every step is exact, and floor(a / b) of a correctly rounded
 * quotient is exact for a < 2^53.
 */
function divideHigh(hi: number, scale: TimestampScale): void {
  const units = scale.unitsPerSecond;
  const d3 = hi >>> 16;
  const q3 = Math.floor(d3 / units);
  let r = d3 - q3 * units;
  let cur = r * 65536 + (hi & 0xffff);
  const q2 = Math.floor(cur / units);
  r = cur - q2 * units;
  cur = r * 65536;
  const q1 = Math.floor(cur / units);
  r = cur - q1 * units;
  cur = r * 65536;
  const q0 = Math.floor(cur / units);
  scale.cachedRemainder = cur - q0 * units;
  scale.cachedSeconds = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0;
  scale.cachedHi = hi;
}

function setTimestampBig(record: CaptureRecord, hi: number, lo: number, scale: TimestampScale): void {
  const units = scale.unitsPerSecondBig;
  const ts = (BigInt(hi) << 32n) | BigInt(lo);
  const sec = ts / units;
  const frac = ts % units;
  record.tsSec = Number(sec) + scale.offsetSeconds;
  record.tsNanos = Number((frac * 1000000000n) / units);
}
