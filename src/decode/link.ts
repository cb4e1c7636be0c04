import { decodeIpv4 } from './ipv4.ts';
import { decodeIpv6 } from './ipv6.ts';
import { ANOMALY, DecodeStatus } from './types.ts';
import type { TcpSegment } from './types.ts';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q customer tag. */
const ETHERTYPE_VLAN = 0x8100;
/** 802.1ad service tag (QinQ outer tag). */
const ETHERTYPE_QINQ = 0x88a8;
/** Pre-standard QinQ outer tag used by some switches. */
const ETHERTYPE_QINQ_OLD = 0x9100;

/** Address families in BSD NULL/LOOP headers: AF_INET is 2 everywhere; AF_INET6 differs per OS. */
const AF_INET = 2;
const AF_INET6_BSD = 24; // NetBSD, OpenBSD, BSD/OS
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;

/**
 * Decodes an Ethernet II header at `start` and what it carries. Every link decoder takes the
 * frame as `d[start .. capEnd)` (a record inside a capture buffer, no view of its own) and
 * `wireEnd`, where the frame ended on the wire (see decodeIpv4); offsets stay absolute in `d`.
 *
 * A type/length field below 0x0600 is an 802.3 length, i.e. an LLC frame (STP, NetBIOS, ...):
 * `NOT_IP`. The frame check sequence and padding after the IP packet are ignored by the IP decoder,
 * which trusts the IP length.
 */
export function decodeEthernet(d: Uint8Array, start: number, capEnd: number, wireEnd: number, out: TcpSegment): DecodeStatus {
  if (capEnd - start < 14) {
    out.truncated = true;
    out.anomaly = ANOMALY.TRUNCATED_LINK_HEADER;
    return DecodeStatus.TRUNCATED;
  }
  const type = (d[start + 12]! << 8) | d[start + 13]!;
  if (type < 0x0600) return DecodeStatus.NOT_IP;
  return decodeEtherType(d, start + 14, capEnd, type, wireEnd, out);
}

/**
 * Dispatches on an EtherType whose payload starts at `off` (absolute in `d`), walking any 802.1Q / 802.1ad tags first.
 *
 * VLAN key: one tag gives its 12-bit VLAN id; two give `(outer << 12) | inner`. Tags beyond the
 * second are walked but do not enter the key, so the key stays a 24-bit number; triple tagging is
 * rare enough that we accept the ambiguity. The walk ends by itself: each tag consumes 4 bytes.
 */
export function decodeEtherType(
  d: Uint8Array,
  off: number,
  capEnd: number,
  type: number,
  wireEnd: number,
  out: TcpSegment,
): DecodeStatus {
  let tags = 0;
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
    if (off + 4 > capEnd) {
      out.truncated = true;
      out.anomaly = ANOMALY.TRUNCATED_LINK_HEADER;
      return DecodeStatus.TRUNCATED;
    }
    const vlanId = ((d[off]! << 8) | d[off + 1]!) & 0x0fff;
    if (tags === 0) out.vlanKey = vlanId;
    else if (tags === 1) out.vlanKey = (out.vlanKey << 12) | vlanId;
    tags++;
    type = (d[off + 2]! << 8) | d[off + 3]!;
    off += 4;
  }
  if (type === ETHERTYPE_IPV4) return decodeIpv4(d, off, capEnd, wireEnd, out);
  if (type === ETHERTYPE_IPV6) return decodeIpv6(d, off, capEnd, wireEnd, out);
  return DecodeStatus.NOT_IP;
}

/**
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113): a 16-byte pseudo header whose last two bytes
 * are the protocol (an EtherType for the cases we care about).
 */
export function decodeSll(d: Uint8Array, start: number, capEnd: number, wireEnd: number, out: TcpSegment): DecodeStatus {
  if (capEnd - start < 16) {
    out.truncated = true;
    out.anomaly = ANOMALY.TRUNCATED_LINK_HEADER;
    return DecodeStatus.TRUNCATED;
  }
  return decodeEtherType(d, start + 16, capEnd, (d[start + 14]! << 8) | d[start + 15]!, wireEnd, out);
}

/**
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276): a 20-byte pseudo header that starts with the
 * protocol (EtherType), then reserved, interface index, ARPHRD type, packet type, address.
 */
export function decodeSll2(d: Uint8Array, start: number, capEnd: number, wireEnd: number, out: TcpSegment): DecodeStatus {
  if (capEnd - start < 20) {
    out.truncated = true;
    out.anomaly = ANOMALY.TRUNCATED_LINK_HEADER;
    return DecodeStatus.TRUNCATED;
  }
  return decodeEtherType(d, start + 20, capEnd, (d[start]! << 8) | d[start + 1]!, wireEnd, out);
}

/**
 * BSD loopback: LINKTYPE_NULL (0) stores the address family in the capturing host's byte order,
 * LINKTYPE_LOOP (108) in network order, but writers get LOOP wrong too, so both accept either.
 * AF values are small, so the byte order shows: a non-zero upper half of the little-endian reading
 * means the value was big-endian. An unknown family is `NOT_IP` with `unknown_link_payload`.
 */
export function decodeNull(d: Uint8Array, start: number, capEnd: number, wireEnd: number, out: TcpSegment): DecodeStatus {
  if (capEnd - start < 4) {
    out.truncated = true;
    out.anomaly = ANOMALY.TRUNCATED_LINK_HEADER;
    return DecodeStatus.TRUNCATED;
  }
  const b0 = d[start]!;
  const b1 = d[start + 1]!;
  const b2 = d[start + 2]!;
  const b3 = d[start + 3]!;
  let family = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
  if ((family & 0xffff0000) !== 0) family = (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
  if (family === AF_INET) return decodeIpv4(d, start + 4, capEnd, wireEnd, out);
  if (family === AF_INET6_BSD || family === AF_INET6_FREEBSD || family === AF_INET6_DARWIN) {
    return decodeIpv6(d, start + 4, capEnd, wireEnd, out);
  }
  out.anomaly = ANOMALY.UNKNOWN_LINK_PAYLOAD;
  return DecodeStatus.NOT_IP;
}

/**
 * Raw IP (LINKTYPE_RAW 101, LINKTYPE_IPV4 228, LINKTYPE_IPV6 229, and the platform DLT_RAW values
 * 12 and 14 that appear in old files): the version nibble picks the decoder. 228/229 promise one
 * family, but the nibble is what the bytes are, so we follow it there too.
 */
export function decodeRawIp(d: Uint8Array, start: number, capEnd: number, wireEnd: number, out: TcpSegment): DecodeStatus {
  if (capEnd - start < 1) {
    out.truncated = true;
    out.anomaly = ANOMALY.TRUNCATED_IP_HEADER;
    return DecodeStatus.TRUNCATED;
  }
  const version = d[start]! >> 4;
  if (version === 4) return decodeIpv4(d, start, capEnd, wireEnd, out);
  if (version === 6) return decodeIpv6(d, start, capEnd, wireEnd, out);
  out.anomaly = ANOMALY.BAD_IP_VERSION;
  return DecodeStatus.MALFORMED;
}
