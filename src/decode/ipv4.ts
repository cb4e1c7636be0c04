import { decodeTcp } from './tcp.ts';
import { ANOMALY, DecodeStatus, UNKNOWN_WIRE_END } from './types.ts';
import type { TcpSegment } from './types.ts';

const IPPROTO_TCP = 6;

/**
 * Decodes the IPv4 header at `off` (RFC 791), then the TCP header after it.
 *
 * @param capEnd - where the captured bytes of the frame end in `d` (offsets are absolute in `d`).
 * @param wireEnd - where the frame ended on the wire (its start in `d` plus the record's original
 *   length), or {@link UNKNOWN_WIRE_END}. Used to tell snaplen truncation (quiet, `truncated =
 *   true`) from a total length that claims more than the wire carried (`MALFORMED
 *   bad_ip_total_length`).
 *
 * Lengths: the TCP segment length comes from the total length, so Ethernet padding after the
 * packet is ignored and a 96-byte snap length still gives the true payload length. A total
 * length of 0 is what TSO/LRO offload leaves in captures taken on the sending host: the length
 * then falls back to the frame (its original length when known, else the captured bytes).
 *
 * Fragments: a non-first fragment (offset ≠ 0) returns `FRAGMENT` with addresses and `ipId` filled.
 * A first fragment with MF set that holds a whole TCP header is decoded as `TCP`: its header is
 * real, and counting it keeps SYNs and seq numbers visible; `payloadLength` then counts only the
 * bytes of this fragment (we do not reassemble; the rest arrive as `FRAGMENT`s). A first fragment
 * too short for a 20-byte TCP header returns `FRAGMENT`.
 */
export function decodeIpv4(d: Uint8Array, off: number, capEnd: number, wireEnd: number, out: TcpSegment): DecodeStatus {
  if (off + 20 > capEnd) {
    out.truncated = true;
    out.anomaly = ANOMALY.TRUNCATED_IP_HEADER;
    return DecodeStatus.TRUNCATED;
  }
  const versionIhl = d[off]!;
  if (versionIhl >> 4 !== 4) {
    out.anomaly = ANOMALY.BAD_IP_VERSION;
    return DecodeStatus.MALFORMED;
  }
  out.ipVersion = 4;
  const headerLength = (versionIhl & 0x0f) << 2;
  if (headerLength < 20) {
    out.anomaly = ANOMALY.BAD_IPV4_HEADER_LENGTH;
    return DecodeStatus.MALFORMED;
  }
  let totalLength = (d[off + 2]! << 8) | d[off + 3]!;
  if (totalLength === 0) {
    // TSO: the NIC fills the length in later; the frame is the packet.
    totalLength = (wireEnd === UNKNOWN_WIRE_END ? capEnd : wireEnd) - off;
  } else if (totalLength < headerLength || totalLength > wireEnd - off) {
    out.anomaly = ANOMALY.BAD_IP_TOTAL_LENGTH;
    return DecodeStatus.MALFORMED;
  }
  if (off + headerLength > capEnd) {
    out.truncated = true;
    out.anomaly = ANOMALY.TRUNCATED_IP_HEADER;
    return DecodeStatus.TRUNCATED;
  }
  if (headerLength > totalLength) {
    out.anomaly = ANOMALY.BAD_IP_TOTAL_LENGTH;
    return DecodeStatus.MALFORMED;
  }
  out.ipId = (d[off + 4]! << 8) | d[off + 5]!;
  out.ttl = d[off + 8]!;
  out.src0 = 0;
  out.src1 = 0;
  out.src2 = 0xffff;
  out.src3 = ((d[off + 12]! << 24) | (d[off + 13]! << 16) | (d[off + 14]! << 8) | d[off + 15]!) >>> 0;
  out.dst0 = 0;
  out.dst1 = 0;
  out.dst2 = 0xffff;
  out.dst3 = ((d[off + 16]! << 24) | (d[off + 17]! << 16) | (d[off + 18]! << 8) | d[off + 19]!) >>> 0;
  const fragment = (d[off + 6]! << 8) | d[off + 7]!;
  if ((fragment & 0x1fff) !== 0) return DecodeStatus.FRAGMENT;
  if (d[off + 9]! !== IPPROTO_TCP) return DecodeStatus.NOT_TCP;
  const segmentLength = totalLength - headerLength;
  if ((fragment & 0x2000) !== 0 && segmentLength < 20) return DecodeStatus.FRAGMENT;
  return decodeTcp(d, off + headerLength, capEnd, segmentLength, out);
}
