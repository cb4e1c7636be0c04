/**
 * A packet time, whole seconds since the epoch and nanoseconds within the second, as epoch
 * seconds: the one formula behind every `t` the tracker stores and compares, the store's reading
 * of those times back (and its test that a (sec, nanos) gives a stored `t` exactly), and the
 * shards' clock of `--jobs`, so a time worked out again from the same (tsSec, tsNanos) is the
 * same double, bit for bit.
 *
 * Why per-packet functions take (tsSec, tsNanos) and call this rather than take `t`: a fractional
 * number passed to a function V8 does not inline is boxed into a new heap number for the call.
 * Passing `t` (and sequence numbers of 2^31 or more) from segment to segment made about two heap
 * numbers of garbage per packet.
 */
export function packetSeconds(tsSec: number, tsNanos: number): number {
  return tsSec + tsNanos * 1e-9;
}
