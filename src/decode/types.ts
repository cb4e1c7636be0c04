/**
 * Boundary types of the decode stage: a {@link CaptureRecord}'s bytes in, a {@link TcpSegment}
 * (numbers only) or a skip reason out.
 *
 * Decoders fill one reused {@link TcpSegment} scratch object and return a {@link DecodeStatus};
 * they never allocate per packet. Everything in a TcpSegment is a number or boolean, so the flow
 * stage can copy what it needs without holding on to packet bytes.
 */

/** TCP flag bits, as in the TCP header's 9 flag bits (RFC 9293 §3.1, RFC 3168, RFC 3540). */
export const TCP_FIN = 0x001;
export const TCP_SYN = 0x002;
export const TCP_RST = 0x004;
export const TCP_PSH = 0x008;
export const TCP_ACK = 0x010;
export const TCP_URG = 0x020;
export const TCP_ECE = 0x040;
export const TCP_CWR = 0x080;
export const TCP_NS = 0x100;

/**
 * Outcome of decoding one record. Only `TCP` means `out` holds a valid segment.
 * A plain object of small integers rather than an enum, so every compiler and loader treats it alike.
 */
export const DecodeStatus = Object.freeze({
  /** A TCP segment; `out` is filled. */
  TCP: 0,
  /** An IPv4/IPv6 packet that is not TCP (UDP, ICMP, ...): counted and passed over. */
  NOT_TCP: 1,
  /** Not IP at all (ARP, LLDP, ...): counted and passed over. */
  NOT_IP: 2,
  /** A non-first IPv4 fragment, or a first fragment too short for a TCP header: counted. */
  FRAGMENT: 3,
  /** A header was cut by the snap length: `out.anomaly` names which; counted, not an error. */
  TRUNCATED: 4,
  /** A header that lies (bad IHL, data offset < 5, ...): `out.anomaly` names it (a "weird"). */
  MALFORMED: 5,
  /** A link type we do not decode. */
  UNSUPPORTED_LINK: 6,
} as const);
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/**
 * A decoded TCP segment: the reused scratch struct every decoder fills.
 *
 * Addresses: every address is four 32-bit words (`src0..src3`, big-endian word order, as in the
 * IPv6 header). IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d): words 0,1 = 0, word 2 =
 * 0xffff, word 3 = the address. So one key layout serves both families.
 *
 * All 32-bit fields (addresses, seq, ack, tsVal) are unsigned numbers (0..2^32-1).
 */
export interface TcpSegment {
  /** 4 or 6. */
  ipVersion: number;
  src0: number;
  src1: number;
  src2: number;
  src3: number;
  dst0: number;
  dst1: number;
  dst2: number;
  dst3: number;
  /** VLAN ids, outer first: (outer << 12) | inner for QinQ, the id for one tag, -1 for none. */
  vlanKey: number;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** IPv4 identification, -1 for IPv6. */
  ipId: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Bitmask of TCP_* flags. */
  flags: number;
  /** Raw (unscaled) window field. */
  window: number;
  /** TCP header length in bytes (data offset × 4). */
  headerLength: number;
  /**
   * Payload bytes the segment carried on the wire, from the IP length (total length minus headers),
   * not from the captured length, so it is right with a 96-byte snap length too. When the IP length
   * is 0 (TSO/LRO captures on the sending host), it falls back to what the frame holds.
   */
  payloadLength: number;
  /** Payload bytes actually present in the captured data (≤ payloadLength). */
  capturedPayloadLength: number;
  /**
   * Byte offset of the TCP payload in the bytes given to the decoder (the record's data for
   * {@link decodePacket}, the capture buffer for decodeFrame), for the rare consumer that needs it.
   */
  payloadOffset: number;
  /** True when the frame was cut by the snap length anywhere (headers decoded, payload partial). */
  truncated: boolean;
  /** MSS option value, -1 when absent. Options are parsed on every segment but cheap. */
  mss: number;
  /** Window scale shift count, -1 when absent. */
  windowScale: number;
  /** SACK-permitted option present. */
  sackPermitted: boolean;
  /** Number of SACK blocks present (0..4). */
  sackBlocks: number;
  /** Timestamps option present. */
  hasTimestamps: boolean;
  tsVal: number;
  tsEcr: number;
  /**
   * For status TRUNCATED or MALFORMED (and some TCP results, e.g. a bad option length that did not
   * stop decoding): a stable snake_case anomaly name (a "weird"), else the empty string. Always one
   * of the string constants in {@link ANOMALY}, so assigning it allocates nothing.
   */
  anomaly: string;
}

/**
 * Stable names of packet-level anomalies ("weirds"). Once shipped, a name never changes.
 * Capture artefacts (IP length 0 from TSO, Ethernet padding, snaplen truncation of the payload)
 * are not anomalies.
 */
export const ANOMALY = Object.freeze({
  NONE: '',
  TRUNCATED_LINK_HEADER: 'truncated_link_header',
  TRUNCATED_IP_HEADER: 'truncated_ip_header',
  TRUNCATED_TCP_HEADER: 'truncated_tcp_header',
  TRUNCATED_IPV6_EXTENSION: 'truncated_ipv6_extension',
  BAD_IP_VERSION: 'bad_ip_version',
  BAD_IPV4_HEADER_LENGTH: 'bad_ipv4_header_length',
  BAD_IP_TOTAL_LENGTH: 'bad_ip_total_length',
  BAD_TCP_HEADER_LENGTH: 'bad_tcp_header_len',
  BAD_TCP_OPTION_LENGTH: 'bad_tcp_option_length',
  IPV6_EXTENSION_LOOP: 'ipv6_extension_header_loop',
  TCP_PORT_ZERO: 'tcp_port_zero',
  UNKNOWN_LINK_PAYLOAD: 'unknown_link_payload',
} as const);

/** Creates a zeroed {@link TcpSegment}; call once and reuse. */
export function createTcpSegment(): TcpSegment {
  return {
    ipVersion: 0,
    src0: 0,
    src1: 0,
    src2: 0,
    src3: 0,
    dst0: 0,
    dst1: 0,
    dst2: 0,
    dst3: 0,
    vlanKey: -1,
    ttl: 0,
    ipId: -1,
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    headerLength: 0,
    payloadLength: 0,
    capturedPayloadLength: 0,
    payloadOffset: 0,
    truncated: false,
    mss: -1,
    windowScale: -1,
    sackPermitted: false,
    sackBlocks: 0,
    hasTimestamps: false,
    tsVal: 0,
    tsEcr: 0,
    anomaly: '',
  };
}

/** Link types the decoder understands (LINKTYPE_* values from the tcpdump.org registry). */
export const LINKTYPE = Object.freeze({
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const);

/**
 * The decoders' "where the frame ended on the wire" when the original length is unknown: past any
 * offset, so no IP length is called a lie (see decodeIpv4's `wireEnd`).
 */
export const UNKNOWN_WIRE_END = Number.MAX_SAFE_INTEGER;
