import { ANOMALY, DecodeStatus } from './types.ts';
import type { TcpSegment } from './types.ts';

/** TCP option kinds we summarise (IANA "TCP Option Kind Numbers"). */
const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WINDOW_SCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMPS = 8;

/**
 * Decodes the TCP header at `off` in `d` (RFC 9293 §3.1) into `out`.
 *
 * @param d - bytes holding the frame (offsets are absolute in `d`).
 * @param off - offset of the TCP header.
 * @param capEnd - where the frame's captured bytes end in `d`.
 * @param segmentLength - bytes of TCP header + payload the segment had on the wire, from the IP
 *   length (IPv4 total length − IHL, IPv6 payload length − extension headers). The caller already
 *   resolved IP length 0 (TSO) to what the frame holds. Bytes past `off + segmentLength` in `d`
 *   (Ethernet padding, FCS) are never counted as payload.
 * @returns `TCP` (also when the snap length cut only the options: `truncated` is set);
 *   `TRUNCATED` (`truncated_tcp_header`) when the snap length cut the fixed 20-byte header; `MALFORMED` when the segment is shorter than 20 bytes or the data offset is < 5 or
 *   points past the segment (`bad_tcp_header_len`). A bad option length stops option parsing,
 *   sets `bad_tcp_option_length` and still returns `TCP`; so does port 0 (`tcp_port_zero`).
 */
export function decodeTcp(d: Uint8Array, off: number, capEnd: number, segmentLength: number, out: TcpSegment): DecodeStatus {
  if (segmentLength < 20) {
    out.anomaly = ANOMALY.BAD_IP_TOTAL_LENGTH;
    return DecodeStatus.MALFORMED;
  }
  if (off + 20 > capEnd) {
    out.truncated = true;
    out.anomaly = ANOMALY.TRUNCATED_TCP_HEADER;
    return DecodeStatus.TRUNCATED;
  }
  out.srcPort = (d[off]! << 8) | d[off + 1]!;
  out.dstPort = (d[off + 2]! << 8) | d[off + 3]!;
  out.seq = ((d[off + 4]! << 24) | (d[off + 5]! << 16) | (d[off + 6]! << 8) | d[off + 7]!) >>> 0;
  out.ack = ((d[off + 8]! << 24) | (d[off + 9]! << 16) | (d[off + 10]! << 8) | d[off + 11]!) >>> 0;
  const offsetByte = d[off + 12]!;
  // The NS bit (RFC 3540, historic) is the low bit of the data-offset byte; the other 8 flags follow.
  out.flags = ((offsetByte & 0x01) << 8) | d[off + 13]!;
  out.window = (d[off + 14]! << 8) | d[off + 15]!;
  const headerLength = (offsetByte >> 4) << 2;
  out.headerLength = headerLength;
  if (headerLength < 20 || headerLength > segmentLength) {
    out.anomaly = ANOMALY.BAD_TCP_HEADER_LENGTH;
    return DecodeStatus.MALFORMED;
  }
  const optionsEnd = off + headerLength;
  if (optionsEnd > capEnd) {
    // The snap length cut the options but the fixed 20-byte header is whole: ports, seq, ack and
    // flags are all there, which is everything the state machine needs. Typically this is a SYN
    // (the segment with the most options) in a capture taken with a tiny snaplen, i.e. the most
    // important packet of its connection, so it stays a TCP segment: options are read as far as
    // they were captured, the segment is marked truncated, and no anomaly is raised (snaplen
    // truncation is a capture artefact, not a malformed packet). tshark counts it as TCP too.
    decodeTcpOptions(d, off + 20, capEnd, out);
    if (out.anomaly === ANOMALY.BAD_TCP_OPTION_LENGTH) out.anomaly = ANOMALY.NONE; // the cut, not a lie
    out.truncated = true;
    out.payloadLength = segmentLength - headerLength;
    out.payloadOffset = capEnd;
    out.capturedPayloadLength = 0;
    if ((out.srcPort === 0 || out.dstPort === 0) && out.anomaly === '') out.anomaly = ANOMALY.TCP_PORT_ZERO;
    return DecodeStatus.TCP;
  }
  if (
    headerLength === 32 &&
    d[off + 20] === OPT_NOP &&
    d[off + 21] === OPT_NOP &&
    d[off + 22] === OPT_TIMESTAMPS &&
    d[off + 23] === 10
  ) {
    // Fast path for the layout nearly every non-SYN segment of a Linux/BSD/Windows stack carries
    // (NOP, NOP, timestamps; RFC 7323 Appendix A), the same shortcut as Linux's
    // tcp_parse_aligned_timestamp: skips the generic walk on the hot path.
    out.hasTimestamps = true;
    out.tsVal = ((d[off + 24]! << 24) | (d[off + 25]! << 16) | (d[off + 26]! << 8) | d[off + 27]!) >>> 0;
    out.tsEcr = ((d[off + 28]! << 24) | (d[off + 29]! << 16) | (d[off + 30]! << 8) | d[off + 31]!) >>> 0;
  } else if (headerLength > 20) {
    decodeTcpOptions(d, off + 20, optionsEnd, out);
  }
  const payloadLength = segmentLength - headerLength;
  const segmentEnd = off + segmentLength;
  const capturedEnd = segmentEnd < capEnd ? segmentEnd : capEnd;
  out.payloadLength = payloadLength;
  out.payloadOffset = optionsEnd;
  out.capturedPayloadLength = capturedEnd - optionsEnd;
  if (capturedEnd < segmentEnd) out.truncated = true;
  if ((out.srcPort === 0 || out.dstPort === 0) && out.anomaly === '') out.anomaly = ANOMALY.TCP_PORT_ZERO;
  return DecodeStatus.TCP;
}

/**
 * Summarises the TCP options between `i` and `end` (both within `d`) into `out`: MSS, window
 * scale, SACK-permitted, the number of SACK blocks, timestamps. Parsed on every segment, not only
 * on SYNs, because timestamps and SACK blocks matter on data segments and the walk is a few bytes.
 *
 * An option whose length byte is missing, < 2, runs past the header, or does not match the fixed
 * length of its kind stops the walk and sets `bad_tcp_option_length`; what was read before stays.
 */
function decodeTcpOptions(d: Uint8Array, i: number, end: number, out: TcpSegment): void {
  while (i < end) {
    const kind = d[i]!;
    if (kind === OPT_EOL) return;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) {
      out.anomaly = ANOMALY.BAD_TCP_OPTION_LENGTH;
      return;
    }
    const length = d[i + 1]!;
    if (length < 2 || i + length > end) {
      out.anomaly = ANOMALY.BAD_TCP_OPTION_LENGTH;
      return;
    }
    switch (kind) {
      case OPT_MSS:
        if (length !== 4) break;
        out.mss = (d[i + 2]! << 8) | d[i + 3]!;
        i += 4;
        continue;
      case OPT_WINDOW_SCALE:
        if (length !== 3) break;
        out.windowScale = d[i + 2]!;
        i += 3;
        continue;
      case OPT_SACK_PERMITTED:
        if (length !== 2) break;
        out.sackPermitted = true;
        i += 2;
        continue;
      case OPT_SACK:
        if ((length - 2) % 8 !== 0 || length === 2) break;
        out.sackBlocks = (length - 2) >> 3;
        i += length;
        continue;
      case OPT_TIMESTAMPS:
        if (length !== 10) break;
        out.hasTimestamps = true;
        out.tsVal = ((d[i + 2]! << 24) | (d[i + 3]! << 16) | (d[i + 4]! << 8) | d[i + 5]!) >>> 0;
        out.tsEcr = ((d[i + 6]! << 24) | (d[i + 7]! << 16) | (d[i + 8]! << 8) | d[i + 9]!) >>> 0;
        i += 10;
        continue;
      default:
        // Unknown kinds (TFO, MPTCP, MD5, ...) are skipped by their length.
        i += length;
        continue;
    }
    // A known kind with the wrong length: the bytes after it cannot be trusted either.
    out.anomaly = ANOMALY.BAD_TCP_OPTION_LENGTH;
    return;
  }
}
