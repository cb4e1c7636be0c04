import { decodeEthernet, decodeNull, decodeRawIp, decodeSll, decodeSll2 } from './link.ts';
import { resetSegment, resetUnwrittenFields } from './reset.ts';
import { DecodeStatus, UNKNOWN_WIRE_END } from './types.ts';
import type { TcpSegment } from './types.ts';

/** An original length of this or more is no wire length (see {@link decodeFrame}). */
const MAX_WIRE_LENGTH = 0x7fffffff;

/**
 * Decodes one captured frame down to TCP, filling the reused scratch `out`.
 *
 * Every field of `out` is reset first, so after any status nothing is left from the previous
 * packet. Only status `TCP` means `out` holds a valid segment; for `FRAGMENT`, `NOT_TCP` and some
 * `MALFORMED`/`TRUNCATED` results the fields decoded before the stop (addresses, VLAN key) are
 * filled and may be used for counting. `TRUNCATED` and `MALFORMED` always name the problem in
 * `out.anomaly` (an {@link ANOMALY} constant). Never throws, for any bytes and any link type.
 *
 * Allocation: none. Bytes are read straight from `data`; `data` is not retained, so it may be the
 * capture reader's reused view (valid only during its callback).
 *
 * @param linkType - LINKTYPE_* of the record's interface (1, 113, 276, 0, 108, 101, 228, 229, 12, 14).
 * @param data - the captured bytes (`data.length` = captured length).
 * @param out - the scratch segment, from {@link createTcpSegment}.
 * @param originalLength - the record's length on the wire, when known. With it, an IP length that
 *   claims more bytes than the wire carried is `MALFORMED bad_ip_total_length` and TSO frames
 *   (IP length 0) get their true length even when the snap length cut them. Without it, an IP
 *   length past the captured bytes is taken as snaplen truncation (`out.truncated`). A value of
 *   2^31 or more is not credible as a wire length and is treated as unknown.
 */
export function decodePacket(
  linkType: number,
  data: Uint8Array,
  out: TcpSegment,
  originalLength?: number,
): DecodeStatus {
  return decodeFrame(linkType, data, 0, data.length, out, originalLength);
}

/**
 * {@link decodePacket} of the frame `bytes[start .. end)`, read in place: what the analysis calls
 * with a record's `bytes` and `offset`, so no record needs a view of its own (one object per
 * packet otherwise). Same result as `decodePacket(linkType, bytes.subarray(start, end), …)`, but
 * `out.payloadOffset` counts from the start of `bytes`.
 */
export function decodeFrame(
  linkType: number,
  bytes: Uint8Array,
  start: number,
  end: number,
  out: TcpSegment,
  originalLength?: number,
): DecodeStatus {
  let wireEnd = UNKNOWN_WIRE_END;
  // An original length of 2 GiB or more is no wire length (it is a damaged record header): treat
  // it as unknown. Taken at face value it turned IP length 0 (TSO) into TCP payloads of up to
  // 2^32 bytes, which break sequence arithmetic downstream (found by the fuzzer:
  // fixtures/regressions/tso-origlen-4g.pcap).
  if (originalLength !== undefined && originalLength < MAX_WIRE_LENGTH) {
    const captured = end - start;
    wireEnd = start + (originalLength > captured ? originalLength : captured);
  }
  // Hot path: reset only what a TCP decode may not overwrite. Anything else is decoded again
  // from a full reset, so no field from an earlier packet survives an early exit. Decoding is a
  // pure function of the bytes, so the second pass returns the same status; it costs a few
  // dozen nanoseconds on non-TCP packets and saves about 20 stores on every TCP one.
  resetUnwrittenFields(out);
  const status = decodeLink(linkType, bytes, start, end, wireEnd, out);
  if (status === DecodeStatus.TCP) return status;
  resetSegment(out);
  return decodeLink(linkType, bytes, start, end, wireEnd, out);
}

/** Dispatches on the link type. */
function decodeLink(linkType: number, d: Uint8Array, start: number, end: number, wireEnd: number, out: TcpSegment): DecodeStatus {
  switch (linkType) {
    case 1:
      return decodeEthernet(d, start, end, wireEnd, out);
    case 113:
      return decodeSll(d, start, end, wireEnd, out);
    case 276:
      return decodeSll2(d, start, end, wireEnd, out);
    case 0:
    case 108:
      return decodeNull(d, start, end, wireEnd, out);
    case 101:
    case 228:
    case 229:
    case 12:
    case 14:
      return decodeRawIp(d, start, end, wireEnd, out);
    default:
      return DecodeStatus.UNSUPPORTED_LINK;
  }
}
