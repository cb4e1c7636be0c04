/**
 * The symmetric flow key: a 32-bit hash over the 4-tuple and VLAN key that is the same for A→B and
 * B→A, so one table entry serves both directions. The hash is only a bucket index; entries are
 * always confirmed by comparing every field ({@link matchesEndpoints}), so collisions cost time,
 * never correctness.
 *
 * No strings: building a text key per packet would allocate on the hot path (tens of millions of
 * short-lived strings on a large capture).
 *
 * @module
 */

import type { TcpSegment } from '../decode/types.ts';

/** One round of a murmur3-style 32-bit mix. */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Final avalanche (murmur3 fmix32). */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * One endpoint folded to 32 bits: the four address words rotated apart and xored (for IPv4, stored
 * IPv4-mapped, three of them are constants), then mixed with the port. One multiply per input
 * where a full murmur round per word cost twice as much on the per-packet path; the final
 * avalanche in {@link flowHash} spreads the bits.
 */
function endpointHash(w0: number, w1: number, w2: number, w3: number, port: number): number {
  const a = w3 ^ ((w2 << 7) | (w2 >>> 25)) ^ ((w1 << 13) | (w1 >>> 19)) ^ ((w0 << 19) | (w0 >>> 13));
  return Math.imul(a, 0xcc9e2d51) ^ Math.imul(port + 0x9e37, 0x1b873593);
}

/**
 * Symmetric 32-bit hash of a segment's 4-tuple and VLAN key: `flowHash(A→B) === flowHash(B→A)`.
 * The two endpoint hashes are combined with commutative operations (xor and sum), so no
 * canonical ordering of the endpoints has to be decided per packet.
 */
export function flowHash(seg: TcpSegment): number {
  const a = endpointHash(seg.src0, seg.src1, seg.src2, seg.src3, seg.srcPort);
  const b = endpointHash(seg.dst0, seg.dst1, seg.dst2, seg.dst3, seg.dstPort);
  return finish(mix((a ^ b) + Math.imul((a + b) | 0, 0x9e3779b1), seg.vlanKey));
}

/**
 * The numeric identity of a flow: both endpoints (client first) and the VLAN key. Implemented by
 * the live flow struct and by closed-incarnation memories, so both are matched the same way.
 */
export interface FlowKeyFields {
  /** Client address words (see TcpSegment: IPv4 is stored IPv4-mapped). */
  c0: number;
  c1: number;
  c2: number;
  c3: number;
  cPort: number;
  /** Server address words. */
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  sPort: number;
  vlan: number;
}

/** True when the segment was sent by the key's client endpoint (address and port match). */
export function sentByClient(key: FlowKeyFields, seg: TcpSegment): boolean {
  return (
    seg.srcPort === key.cPort &&
    seg.src3 === key.c3 &&
    seg.src2 === key.c2 &&
    seg.src1 === key.c1 &&
    seg.src0 === key.c0 &&
    seg.dstPort === key.sPort &&
    seg.dst3 === key.s3 &&
    seg.dst2 === key.s2 &&
    seg.dst1 === key.s1 &&
    seg.dst0 === key.s0
  );
}

/** True when the segment was sent by the key's server endpoint. */
export function sentByServer(key: FlowKeyFields, seg: TcpSegment): boolean {
  return (
    seg.srcPort === key.sPort &&
    seg.src3 === key.s3 &&
    seg.src2 === key.s2 &&
    seg.src1 === key.s1 &&
    seg.src0 === key.s0 &&
    seg.dstPort === key.cPort &&
    seg.dst3 === key.c3 &&
    seg.dst2 === key.c2 &&
    seg.dst1 === key.c1 &&
    seg.dst0 === key.c0
  );
}

/** True when the segment belongs to the key's 4-tuple (either direction) and VLAN. */
export function matchesEndpoints(key: FlowKeyFields, seg: TcpSegment): boolean {
  return seg.vlanKey === key.vlan && (sentByClient(key, seg) || sentByServer(key, seg));
}
