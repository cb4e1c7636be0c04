/**
 * Recognises the same TCP segment captured twice: a capture artefact (a span port that mirrors
 * both directions of a switch, `tcpdump -i any` seeing a packet on a bridge and its port,
 * mergecap of two overlapping captures, the same traffic on two interfaces of one pcapng), not a
 * retransmission. Wireshark flags such copies as retransmissions; tcpmortem drops the copy
 * before the flow stage, counts it as the `duplicate_frame` anomaly, and the capture-quality
 * section reports it, so a duplicated SYN is never diagnosed as a SYN retransmission.
 *
 * A copy is a segment identical to one of the last {@link DEFAULT_DUPLICATE_RING} TCP segments
 * in every field a sender changes between a packet and its retransmission: addresses, ports,
 * VLAN, seq, ack, flags, window, payload length, IPv4 identification and the TCP timestamp
 * value, and no more than {@link DEFAULT_DUPLICATE_WINDOW_NANOS} later. The window is far below
 * the smallest retransmission timeout (Linux's 200 ms RTO minimum, RFC 6298 §2.4's 1 s), and a
 * genuine fast retransmission carries a new IPv4 id and a new timestamp value. TTL is left out on
 * purpose: the same packet captured before and after a router differs only there.
 *
 * Per packet it allocates nothing: the ring is one Float64Array.
 */
import type { TcpSegment } from '../decode/types.ts';

/** How many recent segments are remembered; copies arrive right after the original. */
export const DEFAULT_DUPLICATE_RING = 8;
/** Largest gap between a packet and its copy, in nanoseconds (20 ms). */
export const DEFAULT_DUPLICATE_WINDOW_NANOS = 20_000_000;

/** Numbers kept per remembered segment. */
const FIELDS = 20;

export class DuplicateFilter {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  /** Copies recognised so far. */
  duplicates = 0;

  constructor(
    private readonly size: number = DEFAULT_DUPLICATE_RING,
    private readonly windowNanos: number = DEFAULT_DUPLICATE_WINDOW_NANOS,
  ) {
    this.ring = new Float64Array(size * FIELDS);
  }

  /**
   * Returns true when `seg` (captured at tsSec/tsNanos) is a copy of a segment seen just before;
   * otherwise remembers it and returns false. Call once per TCP segment, in capture order.
   */
  isDuplicate(seg: TcpSegment, tsSec: number, tsNanos: number): boolean {
    const r = this.ring;
    for (let i = 0; i < this.filled; i++) {
      const b = i * FIELDS;
      if (
        r[b] === seg.seq &&
        r[b + 1] === seg.ack &&
        r[b + 2] === seg.srcPort &&
        r[b + 3] === seg.dstPort &&
        r[b + 4] === seg.flags &&
        r[b + 5] === seg.payloadLength &&
        r[b + 6] === seg.window &&
        r[b + 7] === seg.ipId &&
        r[b + 8] === (seg.hasTimestamps ? seg.tsVal : -1) &&
        r[b + 9] === seg.vlanKey &&
        r[b + 10] === seg.src0 &&
        r[b + 11] === seg.src1 &&
        r[b + 12] === seg.src2 &&
        r[b + 13] === seg.src3 &&
        r[b + 14] === seg.dst0 &&
        r[b + 15] === seg.dst1 &&
        r[b + 16] === seg.dst2 &&
        r[b + 17] === seg.dst3
      ) {
        // Seconds and nanoseconds apart, so the gap is exact.
        const gap = (tsSec - r[b + 18]!) * 1e9 + (tsNanos - r[b + 19]!);
        // Either order: copies merged from two interfaces whose clocks differ slightly may be
        // stamped a little before the original.
        if (gap >= -this.windowNanos && gap <= this.windowNanos) {
          this.duplicates++;
          return true;
        }
      }
    }
    const b = this.next * FIELDS;
    r[b] = seg.seq;
    r[b + 1] = seg.ack;
    r[b + 2] = seg.srcPort;
    r[b + 3] = seg.dstPort;
    r[b + 4] = seg.flags;
    r[b + 5] = seg.payloadLength;
    r[b + 6] = seg.window;
    r[b + 7] = seg.ipId;
    r[b + 8] = seg.hasTimestamps ? seg.tsVal : -1;
    r[b + 9] = seg.vlanKey;
    r[b + 10] = seg.src0;
    r[b + 11] = seg.src1;
    r[b + 12] = seg.src2;
    r[b + 13] = seg.src3;
    r[b + 14] = seg.dst0;
    r[b + 15] = seg.dst1;
    r[b + 16] = seg.dst2;
    r[b + 17] = seg.dst3;
    r[b + 18] = tsSec;
    r[b + 19] = tsNanos;
    this.next = (this.next + 1) % this.size;
    if (this.filled < this.size) this.filled++;
    return false;
  }
}
