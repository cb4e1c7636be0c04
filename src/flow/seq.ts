/**
 * 32-bit TCP sequence-number arithmetic (RFC 9293 §3.4): every comparison and difference of
 * sequence or acknowledgment numbers in tcpmortem goes through this module, so wraparound across
 * 2^32 is handled in exactly one place.
 *
 * Inputs are unsigned 32-bit numbers (0..2^32-1) as {@link TcpSegment} holds them. Two numbers are
 * compared by the sign of their 32-bit difference, which is right as long as they are less than
 * 2^31 apart (the RFC's assumption too).
 *
 * @module
 */

/** Signed distance `a - b` in sequence space, in -2^31..2^31-1 (positive when `a` is after `b`). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `a` comes strictly before `b` in sequence space. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** `a` comes before or equals `b`. */
export function seqLte(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** `a` comes strictly after `b`. */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** `a` comes after or equals `b`. */
export function seqGte(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** `a + n` wrapped to 32 bits (n may be negative). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a : b;
}

/**
 * Relative sequence number of `seq` against `base` (e.g. the sender's ISN), as Wireshark shows it:
 * 0..2^32-1, wrapping. Sequence numbers just before the base (out-of-order segments) come out as
 * large numbers, exactly like `seq - isn` modulo 2^32.
 */
export function relativeSeq(seq: number, base: number): number {
  return (seq - base) >>> 0;
}
