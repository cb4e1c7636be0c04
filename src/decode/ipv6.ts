import { decodeTcp } from './tcp.ts';
import { ANOMALY, DecodeStatus, UNKNOWN_WIRE_END } from './types.ts';
import type { TcpSegment } from './types.ts';

const IPPROTO_HOPOPTS = 0;
const IPPROTO_TCP = 6;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_AH = 51;
const IPPROTO_DSTOPTS = 60;

/**
 * Most extension headers we walk before giving up. RFC 8200 §4.1 allows each kind once (destination
 * options twice), so a legitimate chain has at most 6 or 7; 16 leaves room for odd stacks while
 * keeping a crafted jumbo packet from making us walk thousands of 8-byte headers.
 */
const MAX_EXTENSION_HEADERS = 16;

/**
 * Decodes the IPv6 header at `off` (RFC 8200) and its extension-header chain (hop-by-hop, routing,
 * fragment, destination options, AH), then TCP.
 *
 * @param capEnd - see {@link decodeIpv4}.
 * @param wireEnd - see {@link decodeIpv4}.
 *
 * A payload length of 0 (jumbogram, or TSO on the sending host) falls back to the frame.
 * A fragment header with a non-zero offset returns `FRAGMENT`; a first fragment is decoded like the
 * IPv4 case (see {@link decodeIpv4}). ESP, "no next header" and other protocols return `NOT_TCP`.
 * A chain longer than {@link MAX_EXTENSION_HEADERS} returns `MALFORMED ipv6_extension_header_loop`;
 * an extension header cut by the snap length `TRUNCATED truncated_ipv6_extension`; one that runs
 * past the payload length `MALFORMED bad_ip_total_length`.
 */
export function decodeIpv6(d: Uint8Array, off: number, capEnd: number, wireEnd: number, out: TcpSegment): DecodeStatus {
  if (off + 40 > capEnd) {
    out.truncated = true;
    out.anomaly = ANOMALY.TRUNCATED_IP_HEADER;
    return DecodeStatus.TRUNCATED;
  }
  if (d[off]! >> 4 !== 6) {
    out.anomaly = ANOMALY.BAD_IP_VERSION;
    return DecodeStatus.MALFORMED;
  }
  out.ipVersion = 6;
  let payloadLength = (d[off + 4]! << 8) | d[off + 5]!;
  if (payloadLength === 0) {
    payloadLength = (wireEnd === UNKNOWN_WIRE_END ? capEnd : wireEnd) - off - 40;
    if (payloadLength < 0) payloadLength = 0;
  } else if (payloadLength > wireEnd - off - 40) {
    out.anomaly = ANOMALY.BAD_IP_TOTAL_LENGTH;
    return DecodeStatus.MALFORMED;
  }
  out.ttl = d[off + 7]!;
  out.ipId = -1;
  out.src0 = ((d[off + 8]! << 24) | (d[off + 9]! << 16) | (d[off + 10]! << 8) | d[off + 11]!) >>> 0;
  out.src1 = ((d[off + 12]! << 24) | (d[off + 13]! << 16) | (d[off + 14]! << 8) | d[off + 15]!) >>> 0;
  out.src2 = ((d[off + 16]! << 24) | (d[off + 17]! << 16) | (d[off + 18]! << 8) | d[off + 19]!) >>> 0;
  out.src3 = ((d[off + 20]! << 24) | (d[off + 21]! << 16) | (d[off + 22]! << 8) | d[off + 23]!) >>> 0;
  out.dst0 = ((d[off + 24]! << 24) | (d[off + 25]! << 16) | (d[off + 26]! << 8) | d[off + 27]!) >>> 0;
  out.dst1 = ((d[off + 28]! << 24) | (d[off + 29]! << 16) | (d[off + 30]! << 8) | d[off + 31]!) >>> 0;
  out.dst2 = ((d[off + 32]! << 24) | (d[off + 33]! << 16) | (d[off + 34]! << 8) | d[off + 35]!) >>> 0;
  out.dst3 = ((d[off + 36]! << 24) | (d[off + 37]! << 16) | (d[off + 38]! << 8) | d[off + 39]!) >>> 0;
  let next = d[off + 6]!;
  let pos = off + 40;
  const end = pos + payloadLength;
  let firstFragment = false;
  for (let count = 0; next !== IPPROTO_TCP; count++) {
    if (
      next !== IPPROTO_HOPOPTS &&
      next !== IPPROTO_ROUTING &&
      next !== IPPROTO_FRAGMENT &&
      next !== IPPROTO_DSTOPTS &&
      next !== IPPROTO_AH
    ) {
      return DecodeStatus.NOT_TCP;
    }
    if (count === MAX_EXTENSION_HEADERS) {
      out.anomaly = ANOMALY.IPV6_EXTENSION_LOOP;
      return DecodeStatus.MALFORMED;
    }
    if (pos + 8 > end) {
      out.anomaly = ANOMALY.BAD_IP_TOTAL_LENGTH;
      return DecodeStatus.MALFORMED;
    }
    if (pos + 2 > capEnd) {
      out.truncated = true;
      out.anomaly = ANOMALY.TRUNCATED_IPV6_EXTENSION;
      return DecodeStatus.TRUNCATED;
    }
    let length: number;
    if (next === IPPROTO_FRAGMENT) {
      length = 8;
      if (pos + 4 > capEnd) {
        out.truncated = true;
        out.anomaly = ANOMALY.TRUNCATED_IPV6_EXTENSION;
        return DecodeStatus.TRUNCATED;
      }
      const offsetFlags = (d[pos + 2]! << 8) | d[pos + 3]!;
      if (offsetFlags >> 3 !== 0) return DecodeStatus.FRAGMENT;
      if ((offsetFlags & 1) !== 0) firstFragment = true;
    } else if (next === IPPROTO_AH) {
      // AH counts its length in 4-byte words minus 2 (RFC 4302 §2.2), the others in 8-byte words minus 1.
      length = (d[pos + 1]! + 2) << 2;
    } else {
      length = (d[pos + 1]! + 1) << 3;
    }
    if (pos + length > end) {
      out.anomaly = ANOMALY.BAD_IP_TOTAL_LENGTH;
      return DecodeStatus.MALFORMED;
    }
    if (pos + length > capEnd) {
      out.truncated = true;
      out.anomaly = ANOMALY.TRUNCATED_IPV6_EXTENSION;
      return DecodeStatus.TRUNCATED;
    }
    next = d[pos]!;
    pos += length;
  }
  const segmentLength = end - pos;
  if (firstFragment && segmentLength < 20) return DecodeStatus.FRAGMENT;
  return decodeTcp(d, pos, capEnd, segmentLength, out);
}
