import { LINKTYPE } from '../decode/types.ts';
import { isIpv4Mapped, parseAddress } from '../decode/address-parse.ts';

/**
 * Synthetic TCP frames for tests, fixtures and the benchmark.
 *
 * Two levels: {@link buildTcpFrame} takes a readable {@link TcpFrameSpec} (addresses as text) and
 * returns a fresh, complete frame; {@link TcpFrameWriter} writes frames from numeric
 * {@link TcpFrameFields} into one reused buffer, for generating millions of packets.
 */

/** TCP options to put in a frame; absent means "do not write the option". */
export interface TcpOptionsSpec {
  /** Maximum segment size (kind 2). */
  readonly mss?: number;
  /** Window scale shift count (kind 3). */
  readonly windowScale?: number;
  /** SACK-permitted (kind 4). */
  readonly sackPermitted?: boolean;
  /** Timestamps (kind 8): TSval and TSecr, unsigned 32-bit. */
  readonly timestamps?: { readonly tsVal: number; readonly tsEcr: number };
  /** SACK blocks (kind 5) as [left, right] edge pairs, at most 4 (3 together with timestamps). */
  readonly sackBlocks?: readonly (readonly [number, number])[];
}

/** A frame described for people. Every field but the addresses and ports has a default. */
export interface TcpFrameSpec {
  /** LINKTYPE_* of the frame: 1 Ethernet (default), 113 SLL, 276 SLL2, 0 NULL, 108 LOOP, 101/228/229/12/14 raw IP. */
  readonly linkType?: number;
  /** Ethernet only: 0..2 VLAN ids, outer first. */
  readonly vlanIds?: readonly number[];
  /** Ethernet only: TPID of the outer tag when there are two (default 0x88a8; the inner is always 0x8100). */
  readonly outerTpid?: number;
  /** NULL/LOOP only: byte order of the address family (default little-endian for NULL, big-endian for LOOP). */
  readonly nullByteOrder?: 'little-endian' | 'big-endian';
  /** NULL/LOOP only: the AF_INET6 value to write (24, 28 or 30; default 30, macOS). */
  readonly nullAfInet6?: number;
  /** 4 or 6; default from the source address (IPv4 text → 4). */
  readonly ipVersion?: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** Default 0. */
  readonly seq?: number;
  /** Default 0. */
  readonly ack?: number;
  /** TCP_* bitmask; default TCP_ACK. */
  readonly flags?: number;
  /** Raw window field; default 65535. */
  readonly window?: number;
  /** IPv4 TTL / IPv6 hop limit; default 64. */
  readonly ttl?: number;
  /** IPv4 identification; default 0. */
  readonly ipId?: number;
  /** Payload bytes; overrides `payloadLength`. */
  readonly payload?: Uint8Array;
  /** Zero-filled payload of this many bytes; default 0. */
  readonly payloadLength?: number;
  readonly options?: TcpOptionsSpec;
  /** Write 0 as IP length, as TSO/LRO captures on the sending host show. Default false. */
  readonly ipLengthZero?: boolean;
  /** Ethernet only: pad the frame with zeros to the 60-byte minimum. Default false. */
  readonly ethernetPadding?: boolean;
}

/**
 * A frame as numbers, for {@link TcpFrameWriter}. Mutable and meant to be reused: set the fields
 * that change per packet and call {@link TcpFrameWriter.write}. Addresses are four big-endian
 * 32-bit words each, IPv4 as IPv4-mapped, like {@link TcpSegment}.
 */
export interface TcpFrameFields {
  linkType: number;
  /** VLAN ids, outer first (0..2 used). */
  vlanIds: readonly number[];
  outerTpid: number;
  nullBigEndian: boolean;
  nullAfInet6: number;
  ipVersion: 4 | 6;
  src: [number, number, number, number];
  dst: [number, number, number, number];
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  ttl: number;
  ipId: number;
  /** Payload bytes, or null for `payloadLength` zero bytes. */
  payload: Uint8Array | null;
  payloadLength: number;
  /** -1 = absent. */
  mss: number;
  /** -1 = absent. */
  windowScale: number;
  sackPermitted: boolean;
  hasTimestamps: boolean;
  tsVal: number;
  tsEcr: number;
  /** SACK block edges, [left0, right0, left1, right1, ...]; empty for none. */
  sackEdges: readonly number[];
  ipLengthZero: boolean;
  ethernetPadding: boolean;
}

/** Fields of an Ethernet/IPv4 ACK between 10.0.0.1:40000 and 10.0.0.2:80; a starting point. */
export function createTcpFrameFields(): TcpFrameFields {
  return {
    linkType: LINKTYPE.ETHERNET,
    vlanIds: [],
    outerTpid: 0x88a8,
    nullBigEndian: false,
    nullAfInet6: 30,
    ipVersion: 4,
    src: [0, 0, 0xffff, 0x0a000001],
    dst: [0, 0, 0xffff, 0x0a000002],
    srcPort: 40000,
    dstPort: 80,
    seq: 0,
    ack: 0,
    flags: 0x10,
    window: 65535,
    ttl: 64,
    ipId: 0,
    payload: null,
    payloadLength: 0,
    mss: -1,
    windowScale: -1,
    sackPermitted: false,
    hasTimestamps: false,
    tsVal: 0,
    tsEcr: 0,
    sackEdges: [],
    ipLengthZero: false,
    ethernetPadding: false,
  };
}

/** Turns a readable spec into numeric fields. Throws on bad addresses or a family mismatch. */
export function specToFields(spec: TcpFrameSpec): TcpFrameFields {
  const fields = createTcpFrameFields();
  const src = parseAddress(spec.src);
  const dst = parseAddress(spec.dst);
  const ipVersion = spec.ipVersion ?? (isIpv4Mapped(src) ? 4 : 6);
  if (ipVersion === 4 && (!isIpv4Mapped(src) || !isIpv4Mapped(dst))) {
    throw new Error(`IPv4 frame needs IPv4 addresses: ${spec.src} > ${spec.dst}`);
  }
  fields.linkType = spec.linkType ?? LINKTYPE.ETHERNET;
  fields.vlanIds = spec.vlanIds ?? [];
  if (fields.vlanIds.length > 2) throw new Error('at most 2 VLAN tags');
  fields.outerTpid = spec.outerTpid ?? 0x88a8;
  fields.nullBigEndian = (spec.nullByteOrder ?? (fields.linkType === LINKTYPE.LOOP ? 'big-endian' : 'little-endian')) === 'big-endian';
  fields.nullAfInet6 = spec.nullAfInet6 ?? 30;
  fields.ipVersion = ipVersion;
  fields.src = src;
  fields.dst = dst;
  fields.srcPort = spec.srcPort;
  fields.dstPort = spec.dstPort;
  fields.seq = spec.seq ?? 0;
  fields.ack = spec.ack ?? 0;
  fields.flags = spec.flags ?? 0x10;
  fields.window = spec.window ?? 65535;
  fields.ttl = spec.ttl ?? 64;
  fields.ipId = spec.ipId ?? 0;
  fields.payload = spec.payload ?? null;
  fields.payloadLength = spec.payload?.length ?? spec.payloadLength ?? 0;
  const options = spec.options ?? {};
  fields.mss = options.mss ?? -1;
  fields.windowScale = options.windowScale ?? -1;
  fields.sackPermitted = options.sackPermitted ?? false;
  fields.hasTimestamps = options.timestamps !== undefined;
  fields.tsVal = options.timestamps?.tsVal ?? 0;
  fields.tsEcr = options.timestamps?.tsEcr ?? 0;
  fields.sackEdges = (options.sackBlocks ?? []).flat();
  fields.ipLengthZero = spec.ipLengthZero ?? false;
  fields.ethernetPadding = spec.ethernetPadding ?? false;
  return fields;
}

/**
 * Builds one complete frame (not cut by any snap length) from a readable spec, with a correct IPv4
 * header checksum and TCP checksum. Allocates a fresh array: for tests and fixtures.
 * Throws on bad addresses, more than 2 VLAN tags, or options that do not fit in 40 bytes.
 */
export function buildTcpFrame(spec: TcpFrameSpec): Uint8Array {
  const fields = specToFields(spec);
  const writer = new TcpFrameWriter(frameLength(fields) + 64);
  return writer.write(fields).slice();
}

/** Length in bytes of the link-layer header for a link type. */
function linkHeaderLength(fields: TcpFrameFields): number {
  switch (fields.linkType) {
    case LINKTYPE.ETHERNET:
      return 14 + 4 * fields.vlanIds.length;
    case LINKTYPE.LINUX_SLL:
      return 16;
    case LINKTYPE.LINUX_SLL2:
      return 20;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP:
      return 4;
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
    case 12:
    case 14:
      return 0;
    default:
      throw new Error(`packet builder: unsupported link type ${fields.linkType}`);
  }
}

/** Bytes of TCP options (before padding to 4) the fields ask for. */
function optionsLength(fields: TcpFrameFields): number {
  let n = 0;
  if (fields.mss >= 0) n += 4;
  if (fields.sackPermitted) n += 2;
  if (fields.hasTimestamps) n += fields.sackPermitted ? 10 : 12;
  if (fields.windowScale >= 0) n += 4;
  if (fields.sackEdges.length > 0) n += 2 + 4 * fields.sackEdges.length;
  return n;
}

/** Wire length of the frame the fields describe. */
export function frameLength(fields: TcpFrameFields): number {
  const tcpHeader = 20 + ((optionsLength(fields) + 3) & ~3);
  const length = linkHeaderLength(fields) + (fields.ipVersion === 4 ? 20 : 40) + tcpHeader + fields.payloadLength;
  if (fields.ethernetPadding && fields.linkType === LINKTYPE.ETHERNET && length < 60) return 60;
  return length;
}

/**
 * Writes frames into one reused buffer.
 *
 * Ownership: the array {@link write} returns is a view of the writer's buffer, valid until the
 * next `write`. Views are cached per length, so writing allocates nothing once each frame length
 * has been seen (saves one typed-array object per packet when generating millions).
 */
export class TcpFrameWriter {
  readonly buffer: Uint8Array;
  /** Wire length of the last frame written (its pcap `orig_len`). */
  originalLength = 0;
  private readonly views: (Uint8Array | undefined)[] = [];

  /** @param capacity - buffer size in bytes; must hold the captured part of every frame. */
  constructor(capacity = 65_664) {
    this.buffer = new Uint8Array(capacity);
  }

  /**
   * Writes one frame and returns its first `min(wire length, snapLength)` bytes. Checksums are
   * computed over the whole segment even when the snap length cuts it (zero payload bytes add
   * nothing to the sum, given payload bytes are summed from `fields.payload`).
   * Sets {@link originalLength}. Throws when the captured part does not fit the buffer or the
   * options exceed 40 bytes.
   */
  write(fields: TcpFrameFields, snapLength = 0x7fffffff): Uint8Array {
    const b = this.buffer;
    const optionBytes = optionsLength(fields);
    if (optionBytes > 40) throw new Error('packet builder: TCP options exceed 40 bytes');
    const tcpHeader = 20 + ((optionBytes + 3) & ~3);
    const linkLength = linkHeaderLength(fields);
    const ipHeader = fields.ipVersion === 4 ? 20 : 40;
    const ipOff = linkLength;
    const tcpOff = ipOff + ipHeader;
    const payloadOff = tcpOff + tcpHeader;
    const wire = frameLength(fields);
    const captured = wire < snapLength ? wire : snapLength;
    if (payloadOff > b.length || captured > b.length) throw new Error('packet builder: frame exceeds buffer');
    this.originalLength = wire;

    writeLinkHeader(b, fields);
    const segmentLength = tcpHeader + fields.payloadLength;
    if (fields.ipVersion === 4) {
      b[ipOff] = 0x45;
      b[ipOff + 1] = 0;
      put16(b, ipOff + 2, fields.ipLengthZero ? 0 : 20 + segmentLength);
      put16(b, ipOff + 4, fields.ipId);
      put16(b, ipOff + 6, 0x4000); // DF, as Linux sets on TCP
      b[ipOff + 8] = fields.ttl;
      b[ipOff + 9] = 6;
      put16(b, ipOff + 10, 0);
      put32(b, ipOff + 12, fields.src[3]);
      put32(b, ipOff + 16, fields.dst[3]);
      put16(b, ipOff + 10, ~sum16(b, ipOff, 20, 0) & 0xffff);
    } else {
      put32(b, ipOff, 0x60000000);
      put16(b, ipOff + 4, fields.ipLengthZero ? 0 : segmentLength);
      b[ipOff + 6] = 6;
      b[ipOff + 7] = fields.ttl;
      for (let i = 0; i < 4; i++) {
        put32(b, ipOff + 8 + 4 * i, fields.src[i]!);
        put32(b, ipOff + 24 + 4 * i, fields.dst[i]!);
      }
    }

    put16(b, tcpOff, fields.srcPort);
    put16(b, tcpOff + 2, fields.dstPort);
    put32(b, tcpOff + 4, fields.seq);
    put32(b, tcpOff + 8, fields.ack);
    b[tcpOff + 12] = ((tcpHeader >> 2) << 4) | ((fields.flags >> 8) & 1);
    b[tcpOff + 13] = fields.flags & 0xff;
    put16(b, tcpOff + 14, fields.window);
    put16(b, tcpOff + 16, 0);
    put16(b, tcpOff + 18, 0);
    writeOptions(b, tcpOff + 20, payloadOff, fields);

    // Payload: copy or zero only what the snap length keeps; the checksum covers the rest by sum.
    const payloadEnd = payloadOff + fields.payloadLength;
    const keptEnd = payloadEnd < captured ? payloadEnd : captured;
    let payloadSum = 0;
    if (fields.payload !== null) {
      if (keptEnd > payloadOff) b.set(fields.payload.subarray(0, keptEnd - payloadOff), payloadOff);
      payloadSum = sum16(fields.payload, 0, fields.payload.length, 0);
    } else if (keptEnd > payloadOff) {
      b.fill(0, payloadOff, keptEnd);
    }
    if (captured > payloadEnd) b.fill(0, payloadEnd, captured); // Ethernet padding

    // Pseudo-header (RFC 9293 §3.1 / RFC 8200 §8.1) + header + payload.
    let sum = payloadSum + 6 + segmentLength;
    const words = fields.ipVersion === 4 ? 1 : 4;
    for (let i = 4 - words; i < 4; i++) {
      const s = fields.src[i]!;
      const d = fields.dst[i]!;
      sum += (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff);
    }
    sum = sum16(b, tcpOff, tcpHeader, sum);
    put16(b, tcpOff + 16, ~sum & 0xffff);

    let view = this.views[captured];
    if (view === undefined) {
      view = b.subarray(0, captured);
      this.views[captured] = view;
    }
    return view;
  }
}

function writeLinkHeader(b: Uint8Array, fields: TcpFrameFields): void {
  const etherType = fields.ipVersion === 4 ? 0x0800 : 0x86dd;
  switch (fields.linkType) {
    case LINKTYPE.ETHERNET: {
      // Locally administered MACs: 02:00:00:00:00:02 (dst), 02:00:00:00:00:01 (src).
      b.fill(0, 0, 12);
      b[0] = 0x02;
      b[5] = 0x02;
      b[6] = 0x02;
      b[11] = 0x01;
      let off = 12;
      const tags = fields.vlanIds;
      for (let i = 0; i < tags.length; i++) {
        put16(b, off, tags.length === 2 && i === 0 ? fields.outerTpid : 0x8100);
        put16(b, off + 2, tags[i]! & 0x0fff);
        off += 4;
      }
      put16(b, off, etherType);
      return;
    }
    case LINKTYPE.LINUX_SLL:
      put16(b, 0, 0); // packet type: to us
      put16(b, 2, 1); // ARPHRD_ETHER
      put16(b, 4, 6); // address length
      b.fill(0, 6, 14);
      b[6] = 0x02;
      b[11] = 0x01;
      put16(b, 14, etherType);
      return;
    case LINKTYPE.LINUX_SLL2:
      put16(b, 0, etherType);
      put16(b, 2, 0);
      put32(b, 4, 2); // interface index
      put16(b, 8, 1); // ARPHRD_ETHER
      b[10] = 0; // packet type: to us
      b[11] = 6;
      b.fill(0, 12, 20);
      b[12] = 0x02;
      b[17] = 0x01;
      return;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      const family = fields.ipVersion === 4 ? 2 : fields.nullAfInet6;
      if (fields.nullBigEndian) put32(b, 0, family);
      else {
        b[0] = family;
        b[1] = 0;
        b[2] = 0;
        b[3] = 0;
      }
      return;
    }
    default:
      return;
  }
}

/**
 * Writes options in Linux's layout (MSS; SACK-permitted + timestamps, or NOP NOP + timestamps;
 * NOP + window scale; SACK blocks), EOL-padded to the header length.
 */
function writeOptions(b: Uint8Array, i: number, end: number, fields: TcpFrameFields): void {
  if (fields.mss >= 0) {
    b[i] = 2;
    b[i + 1] = 4;
    put16(b, i + 2, fields.mss);
    i += 4;
  }
  if (fields.sackPermitted) {
    b[i] = 4;
    b[i + 1] = 2;
    i += 2;
  }
  if (fields.hasTimestamps) {
    if (!fields.sackPermitted) {
      b[i++] = 1; // NOP, NOP: align the timestamps to 4 bytes, as Linux does
      b[i++] = 1;
    }
    b[i] = 8;
    b[i + 1] = 10;
    put32(b, i + 2, fields.tsVal);
    put32(b, i + 6, fields.tsEcr);
    i += 10;
  }
  if (fields.windowScale >= 0) {
    b[i++] = 1; // NOP
    b[i] = 3;
    b[i + 1] = 3;
    b[i + 2] = fields.windowScale;
    i += 3;
  }
  const edges = fields.sackEdges;
  if (edges.length > 0) {
    b[i] = 5;
    b[i + 1] = 2 + 4 * edges.length;
    i += 2;
    for (let k = 0; k < edges.length; k++, i += 4) put32(b, i, edges[k]!);
  }
  if (i < end) b.fill(0, i, end);
}

function put16(b: Uint8Array, off: number, value: number): void {
  b[off] = (value >>> 8) & 0xff;
  b[off + 1] = value & 0xff;
}

function put32(b: Uint8Array, off: number, value: number): void {
  b[off] = (value >>> 24) & 0xff;
  b[off + 1] = (value >>> 16) & 0xff;
  b[off + 2] = (value >>> 8) & 0xff;
  b[off + 3] = value & 0xff;
}

/**
 * One's-complement sum of `length` bytes from `off` (big-endian 16-bit words, an odd last byte
 * padded with zero), added to `initial`, folded to 16 bits.
 */
function sum16(b: Uint8Array, off: number, length: number, initial: number): number {
  let sum = initial;
  const end = off + length;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}
