/**
 * The fuzz harness shared by the CI fuzz suites (test/fuzz/*.test.ts) and the long run
 * (scripts/fuzz.ts): a seed corpus of small valid captures made with our own writers, a
 * fast-check arbitrary of structure-aware mutations over it, and the property checks.
 *
 * Everything here is deterministic for a given fast-check seed: the seed corpus is built from
 * fixed frames and a fixed-seed conversation generator.
 *
 * @module
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CaptureFormatError,
  DEFAULT_CAPTURE_OPTIONS,
  PcapWriter,
  PcapngWriter,
  createCaptureParser,
  type CaptureWarning,
} from '../../src/capture/index.ts';
import { ParserCore } from '../../src/capture/parser.ts';
import { ANOMALY, DecodeStatus, createTcpSegment, decodePacket, type TcpSegment } from '../../src/decode/index.ts';
import { buildTcpFrame, generateConversations, type TcpFrameSpec } from '../../src/synth/index.ts';
import { analyze } from '../../src/analyze.ts';

// ---------------------------------------------------------------------------------------------
// Seed corpus
// ---------------------------------------------------------------------------------------------

/** One packet inside a seed: where its frame starts in the file and where its headers are. */
export interface SeedPacket {
  /** File offset of the first frame byte. */
  readonly dataOffset: number;
  readonly capturedLength: number;
  /** Offset of the IP header within the frame; -1 when the frame is not IP. */
  readonly ipOffset: number;
  readonly ipVersion: number;
  /** Offset of the TCP header within the frame; -1 when not decoded as TCP. */
  readonly tcpOffset: number;
}

/** A 32-bit field of the container format, for targeted overwrites. */
export interface SeedField {
  readonly offset: number;
  readonly le: boolean;
  /** What the field is, for readable minimised cases. */
  readonly name: string;
}

/** A valid capture plus a map of its structure. */
export interface Seed {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly format: 'pcap' | 'pcapng';
  /** Unit starts (file header, records, blocks), then the file length. */
  readonly boundaries: readonly number[];
  /** Length fields: pcap incl_len, pcapng block header and trailer lengths. */
  readonly lengthFields: readonly SeedField[];
  /** Every other 32-bit field worth lying in (orig_len, snaplen, interface ids, timestamps, magics). */
  readonly fields: readonly SeedField[];
  /** Snapshot-length fields (pcap header, IDBs). */
  readonly snapFields: readonly SeedField[];
  /** Original-length fields, parallel to `packets` where known. */
  readonly packets: readonly SeedPacket[];
}

const T0 = 1_700_000_000;

/** A few hand-made TCP frames on one link type: a handshake with options, data, SACK, FIN. */
function framesFor(linkType: number, ipv6: boolean, vlanIds: readonly number[] = []): Uint8Array[] {
  const base: TcpFrameSpec = ipv6
    ? { linkType, src: '2001:db8::1', dst: '2001:db8::2', srcPort: 40000, dstPort: 443 }
    : { linkType, src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80 };
  const withVlan = linkType === 1 ? { ...base, vlanIds } : base;
  const reply = { ...withVlan, src: withVlan.dst, dst: withVlan.src, srcPort: withVlan.dstPort, dstPort: withVlan.srcPort };
  return [
    buildTcpFrame({
      ...withVlan,
      flags: 0x002,
      seq: 1000,
      options: { mss: 1460, windowScale: 7, sackPermitted: true, timestamps: { tsVal: 1, tsEcr: 0 } },
    }),
    buildTcpFrame({ ...reply, flags: 0x012, seq: 5000, ack: 1001, options: { mss: 1400, sackPermitted: true } }),
    // IPv6 data long enough for a chain of 16+ extension headers once the loop mutation rewrites it.
    buildTcpFrame({ ...withVlan, flags: 0x018, seq: 1001, ack: 5001, payloadLength: ipv6 ? 200 : 40, options: { timestamps: { tsVal: 2, tsEcr: 1 } } }),
    buildTcpFrame({ ...reply, flags: 0x010, seq: 5001, ack: 1041, options: { sackBlocks: [[1041, 1100]] } }),
    buildTcpFrame({ ...withVlan, flags: 0x011, seq: 1041, ack: 5001, ipLengthZero: true }),
    buildTcpFrame({ ...reply, flags: 0x004, seq: 5001, ethernetPadding: true }),
  ];
}

/**
 * Inserts IPv6 extension headers (hop-by-hop, routing, fragment, destination options, AH) after
 * the fixed IPv6 header at `ipOffset`, fixing next-header values and the payload length.
 */
export function withIpv6Extensions(frame: Uint8Array, ipOffset: number, kinds: readonly number[]): Uint8Array {
  const headers: Uint8Array[] = [];
  let next = frame[ipOffset + 6]!;
  for (let i = kinds.length - 1; i >= 0; i--) {
    const kind = kinds[i]!;
    let h: Uint8Array;
    if (kind === 44) h = Uint8Array.of(next, 0, 0, 0, 0, 0, 0, 1); // fragment, offset 0, MF clear
    else if (kind === 51) h = new Uint8Array(16).fill(0).map((_, j) => (j === 0 ? next : j === 1 ? 2 : 0)); // AH, (2+2)*4
    else h = new Uint8Array(16).map((_, j) => (j === 0 ? next : j === 1 ? 1 : 0)); // (1+1)*8
    headers.unshift(h);
    next = kind;
  }
  const extra = headers.reduce((n, h) => n + h.length, 0);
  const out = new Uint8Array(frame.length + extra);
  out.set(frame.subarray(0, ipOffset + 40), 0);
  let at = ipOffset + 40;
  for (const h of headers) {
    out.set(h, at);
    at += h.length;
  }
  out.set(frame.subarray(ipOffset + 40), at);
  out[ipOffset + 6] = next;
  const payload = ((out[ipOffset + 4]! << 8) | out[ipOffset + 5]!) + extra;
  out[ipOffset + 4] = payload >> 8;
  out[ipOffset + 5] = payload & 0xff;
  return out;
}

/** Frames of a small generated conversation set (fixed seed), cut to `snapLength`. */
function conversationFrames(linkType: number, snapLength: number, maxPackets: number): { data: Uint8Array; wire: number }[] {
  const frames: { data: Uint8Array; wire: number }[] = [];
  generateConversations(
    { seed: 7, conversations: 3, maxPackets, linkType, snapLength, ipv6Fraction: 0.4, responseBytes: [100, 3000] },
    (_s, _n, frame, originalLength) => frames.push({ data: frame.slice(), wire: originalLength }),
  );
  return frames;
}

function ts(i: number): { tsSec: number; tsNanos: number } {
  return { tsSec: T0 + i, tsNanos: (i * 123_456_789) % 1_000_000_000 };
}

/** Builds the seed captures. Small (under ~3 KiB each) so that 1-byte chunking stays cheap. */
export function buildSeeds(): Seed[] {
  const seeds: Seed[] = [];
  const eth = framesFor(1, false, [100]);
  const ethV6 = framesFor(1, true);
  const sll = framesFor(113, false);
  const sll2 = framesFor(276, true);
  const nul = framesFor(0, true);
  const raw = framesFor(101, false);
  const raw6 = framesFor(101, true).map((f) => withIpv6Extensions(f, 0, [0, 43, 44, 60]));
  const qinq = framesFor(1, false, [10, 20]);

  // pcap: LE µs Ethernet (VLAN) plus generated conversations cut to 96 bytes.
  {
    const w = new PcapWriter({ snapLength: 96 });
    eth.forEach((f, i) => w.writePacket({ ...ts(i), data: f }));
    conversationFrames(1, 96, 6).forEach((f, i) => w.writePacket({ ...ts(10 + i), data: f.data, originalLength: f.wire }));
    seeds.push(describe('pcap-le-us-ethernet', w.toBytes()));
  }
  {
    const w = new PcapWriter({ bigEndian: true, nanosecond: true, linkType: 113 });
    sll.forEach((f, i) => w.writePacket({ ...ts(i), data: f }));
    seeds.push(describe('pcap-be-ns-sll', w.toBytes()));
  }
  {
    const w = new PcapWriter({ nanosecond: true, linkType: 276, snapLength: 64 });
    sll2.forEach((f, i) => w.writePacket({ ...ts(i), data: f.subarray(0, 64), originalLength: f.length }));
    seeds.push(describe('pcap-le-ns-sll2-snap64', w.toBytes()));
  }
  {
    const w = new PcapWriter({ bigEndian: true, linkType: 0 });
    nul.forEach((f, i) => w.writePacket({ ...ts(i), data: f }));
    seeds.push(describe('pcap-be-us-null-ipv6', w.toBytes()));
  }
  {
    const w = new PcapWriter({ linkType: 101 });
    raw6.forEach((f, i) => w.writePacket({ ...ts(i), data: f }));
    raw.forEach((f, i) => w.writePacket({ ...ts(10 + i), data: f }));
    seeds.push(describe('pcap-le-us-raw-ipv6-ext', w.toBytes()));
  }
  // pcapng: two sections of different byte orders, several interfaces, every packet block kind.
  {
    const w = new PcapngWriter({ comment: 'section one' });
    const e = w.addInterface({ linkType: 1, name: 'eth0', description: 'uplink', comment: 'c' });
    const s = w.addInterface({ linkType: 113, snapLength: 128, tsResolution: { base: 10, exponent: 9 } });
    const r = w.addInterface({ linkType: 101, tsResolution: { base: 2, exponent: 20 }, tsOffsetSeconds: 1000 });
    eth.slice(0, 3).forEach((f, i) => w.writeEnhancedPacket(e, { ...ts(i), data: f, comment: `p${i}` }));
    sll.slice(0, 3).forEach((f, i) => w.writeEnhancedPacket(s, { ...ts(3 + i), data: f }));
    raw6.slice(0, 2).forEach((f, i) => w.writeObsoletePacket(r, { ...ts(6 + i), data: f, drops: 1 }));
    w.writeInterfaceStatistics(e, { ...ts(9), received: 10, interfaceDrops: 2, osDrops: 1, comment: 'stats' });
    w.writeBlock(0x0bad, Uint8Array.of(1, 2, 3, 4, 5));
    w.section({ bigEndian: true, comment: 'section two' });
    const q = w.addInterface({ linkType: 1, snapLength: 80 });
    w.addInterface({ linkType: 0 });
    qinq.slice(0, 3).forEach((f) => w.writeSimplePacket(f.subarray(0, Math.min(80, f.length)), f.length));
    w.writeEnhancedPacket(1, { ...ts(20), data: nul[0]! });
    w.writeInterfaceStatistics(q, { ...ts(21), received: 3 });
    seeds.push(describe('pcapng-two-sections', w.toBytes()));
  }
  {
    const w = new PcapngWriter({ bigEndian: true });
    const i = w.addInterface({ linkType: 1, tsResolution: { base: 10, exponent: 3 } });
    ethV6.forEach((f, k) => w.writeEnhancedPacket(i, { ...ts(k), data: f, comment: 'x' }));
    conversationFrames(1, 128, 5).forEach((f, k) => w.writeEnhancedPacket(i, { ...ts(10 + k), data: f.data, originalLength: f.wire }));
    seeds.push(describe('pcapng-be-ethernet-ipv6', w.toBytes()));
  }
  {
    const w = new PcapngWriter();
    w.addInterface({ linkType: 101 });
    raw.forEach((f) => w.writeSimplePacket(f));
    seeds.push(describe('pcapng-le-spb-raw', w.toBytes()));
  }
  return seeds;
}

/** Maps the structure of a valid capture (blocks/records, fields, packet header offsets). */
function describe(name: string, bytes: Uint8Array): Seed {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boundaries: number[] = [];
  const lengthFields: SeedField[] = [];
  const fields: SeedField[] = [];
  const snapFields: SeedField[] = [];
  const magic = dv.getUint32(0, false);
  const format = magic === 0x0a0d0d0a ? 'pcapng' : 'pcap';
  if (format === 'pcap') {
    const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
    boundaries.push(0);
    fields.push({ offset: 0, le: false, name: 'pcap magic' }, { offset: 20, le, name: 'pcap link type' });
    snapFields.push({ offset: 16, le, name: 'pcap snaplen' });
    for (let at = 24; at < bytes.length; at += 16 + dv.getUint32(at + 8, le)) {
      boundaries.push(at);
      lengthFields.push({ offset: at + 8, le, name: 'incl_len' });
      fields.push({ offset: at, le, name: 'ts_sec' }, { offset: at + 4, le, name: 'ts_frac' }, { offset: at + 12, le, name: 'orig_len' });
    }
  } else {
    let le = true;
    for (let at = 0; at < bytes.length; ) {
      boundaries.push(at);
      const type = dv.getUint32(at, le);
      if (type === 0x0a0d0d0a) {
        le = dv.getUint32(at + 8, true) === 0x1a2b3c4d;
        fields.push({ offset: at + 8, le, name: 'byte-order magic' }, { offset: at + 12, le, name: 'section version' });
      }
      const length = dv.getUint32(at + 4, le);
      lengthFields.push({ offset: at + 4, le, name: 'block length' }, { offset: at + length - 4, le, name: 'block trailer' });
      fields.push({ offset: at, le, name: 'block type' });
      if (type === 1) {
        fields.push({ offset: at + 8, le, name: 'idb link type' });
        snapFields.push({ offset: at + 12, le, name: 'idb snaplen' });
      } else if (type === 6 || type === 2) {
        fields.push(
          { offset: at + 8, le, name: 'interface id' },
          { offset: at + 12, le, name: 'ts high' },
          { offset: at + 16, le, name: 'ts low' },
          { offset: at + 20, le, name: 'captured length' },
          { offset: at + 24, le, name: 'original length' },
        );
      } else if (type === 3) {
        fields.push({ offset: at + 8, le, name: 'spb original length' });
      } else if (type === 5) {
        fields.push({ offset: at + 8, le, name: 'isb interface id' });
      }
      at += length;
    }
  }
  boundaries.push(bytes.length);
  const packets: SeedPacket[] = [];
  const seg = createTcpSegment();
  const parser = createCaptureParser({
    record(r) {
      const dataOffset = r.data.byteOffset - bytes.byteOffset;
      const ipOffset = ipOffsetOf(r.linkType, r.data);
      const status = decodePacket(r.linkType, r.data, seg, r.originalLength);
      packets.push({
        dataOffset,
        capturedLength: r.capturedLength,
        ipOffset,
        ipVersion: ipOffset >= 0 ? r.data[ipOffset]! >> 4 : 0,
        tcpOffset: status === DecodeStatus.TCP ? seg.payloadOffset - seg.headerLength : -1,
      });
    },
  });
  parser.push(bytes);
  const summary = parser.end();
  assert.equal(summary.stoppedEarly, false, `seed ${name} is not a clean capture`);
  return { name, bytes, format, boundaries, lengthFields, fields, snapFields, packets };
}

/** Offset of the IP header in a frame of our seeds (they use no unknown EtherTypes). */
function ipOffsetOf(linkType: number, d: Uint8Array): number {
  switch (linkType) {
    case 1: {
      let off = 12;
      while (off + 2 <= d.length && [0x8100, 0x88a8, 0x9100].includes((d[off]! << 8) | d[off + 1]!)) off += 4;
      return off + 2;
    }
    case 113:
      return 16;
    case 276:
      return 20;
    case 0:
    case 108:
      return 4;
    case 101:
      return 0;
    default:
      return -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

/** Values that break length and magic handling in interesting ways. */
export const SPECIAL_U32 = [
  0, 1, 3, 4, 8, 11, 12, 16, 20, 24, 28, 32, 0xfff, 0xffff, 0x10000, 0x3ffffc, 0x7fffffff, 0x80000000, 0xfffffffc,
  0xffffffff, 0x1a2b3c4d, 0x4d3c2b1a, 0x0a0d0d0a, 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1,
] as const;

/**
 * One mutation. Positions are plain integers reduced modulo what the seed has, so one mutation
 * applies to any seed and shrinks towards the start of the file.
 */
export type Mutation =
  | { readonly k: 'flip'; readonly at: number; readonly bit: number }
  | { readonly k: 'byte'; readonly at: number; readonly value: number }
  | { readonly k: 'length'; readonly field: number; readonly value: number; readonly swap: boolean }
  | { readonly k: 'field'; readonly field: number; readonly value: number; readonly swap: boolean }
  | { readonly k: 'snaplen'; readonly value: number }
  | { readonly k: 'origlen-below-caplen'; readonly packet: number; readonly value: number }
  | { readonly k: 'ihl'; readonly packet: number; readonly value: number }
  | { readonly k: 'ip-length'; readonly packet: number; readonly value: number }
  | { readonly k: 'tcp-offset'; readonly packet: number; readonly value: number }
  | { readonly k: 'ipv6-loop'; readonly packet: number; readonly next: number; readonly length: number }
  | { readonly k: 'truncate'; readonly boundary: number; readonly delta: number }
  | { readonly k: 'delete-unit'; readonly unit: number }
  | { readonly k: 'duplicate-unit'; readonly unit: number; readonly to: number }
  | { readonly k: 'insert'; readonly boundary: number; readonly what: InsertKind; readonly bytes: readonly number[] };

export type InsertKind = 'bytes' | 'pcap-header' | 'shb-bad-magic' | 'shb-other-order' | 'shb-zero-length';

const u32Arb = fc.oneof(fc.constantFrom(...SPECIAL_U32), fc.nat({ max: 0xffffffff }));
const posArb = fc.nat({ max: 1 << 20 });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('flip' as const), at: posArb, bit: fc.nat({ max: 7 }) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('byte' as const), at: posArb, value: fc.nat({ max: 255 }) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('length' as const), field: posArb, value: u32Arb, swap: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('field' as const), field: posArb, value: u32Arb, swap: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('snaplen' as const), value: fc.nat({ max: 100 }) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('origlen-below-caplen' as const), packet: posArb, value: fc.nat({ max: 60 }) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('ihl' as const), packet: posArb, value: fc.nat({ max: 15 }) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('ip-length' as const), packet: posArb, value: fc.oneof(fc.constantFrom(0, 1, 19, 20, 39, 40, 0xffff), fc.nat({ max: 0xffff })) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('tcp-offset' as const), packet: posArb, value: fc.nat({ max: 15 }) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('ipv6-loop' as const), packet: posArb, next: fc.constantFrom(0, 43, 44, 51, 60), length: fc.nat({ max: 3 }) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('truncate' as const), boundary: posArb, delta: fc.integer({ min: -30, max: 30 }) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('delete-unit' as const), unit: posArb }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('duplicate-unit' as const), unit: posArb, to: posArb }), weight: 1 },
  {
    arbitrary: fc.record({
      k: fc.constant('insert' as const),
      boundary: posArb,
      what: fc.constantFrom<InsertKind>('bytes', 'pcap-header', 'shb-bad-magic', 'shb-other-order', 'shb-zero-length'),
      bytes: fc.array(fc.nat({ max: 255 }), { maxLength: 40 }),
    }),
    weight: 2,
  },
);

/** A mutated capture: a seed, mutations applied in order, and how the bytes are chunked. */
export interface Case {
  readonly seed: number;
  readonly mutations: readonly Mutation[];
  /** Chunk sizes used in turn (cycled); empty = the whole input in one chunk. */
  readonly chunks: readonly number[];
}

/** Chunkings: whole, the fixed sizes of the reader tests, and random size sequences; 1-byte (the costliest) rarer. */
export const chunksArb = fc.oneof(
  { arbitrary: fc.constant<number[]>([]), weight: 2 },
  { arbitrary: fc.constantFrom([1], [2]), weight: 1 },
  { arbitrary: fc.constantFrom([7], [64]), weight: 2 },
  { arbitrary: fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }), weight: 3 },
);

export function caseArb(seedCount: number): fc.Arbitrary<Case> {
  return fc.record({
    seed: fc.nat({ max: seedCount - 1 }),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
    chunks: chunksArb,
  });
}

function setU32(b: Uint8Array, at: number, value: number, le: boolean): void {
  if (at < 0 || at + 4 > b.length) return;
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, value >>> 0, le);
}

function pick<T>(list: readonly T[], i: number): T | undefined {
  return list.length === 0 ? undefined : list[i % list.length];
}

/** Section header block bytes for the insert mutations. */
function shb(kind: 'shb-bad-magic' | 'shb-other-order' | 'shb-zero-length', le: boolean): Uint8Array {
  const b = new Uint8Array(28);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x0a0d0d0a, true);
  dv.setUint32(4, kind === 'shb-zero-length' ? 0 : 28, le);
  dv.setUint32(8, kind === 'shb-bad-magic' ? 0xdeadbeef : 0x1a2b3c4d, le);
  dv.setUint16(12, 1, le);
  dv.setUint32(16, 0xffffffff, le);
  dv.setUint32(20, 0xffffffff, le);
  dv.setUint32(24, 28, le);
  return b;
}

/** Applies the mutations of `c` to a copy of its seed. Mutations that no longer fit are skipped. */
export function mutate(seeds: readonly Seed[], c: Pick<Case, 'seed' | 'mutations'>): Uint8Array {
  const seed = seeds[c.seed % seeds.length]!;
  let b: Uint8Array = seed.bytes.slice();
  for (const m of c.mutations) {
    const packet = 'packet' in m ? pick(seed.packets, m.packet) : undefined;
    switch (m.k) {
      case 'flip':
        if (b.length > 0) b[m.at % b.length]! ^= 1 << m.bit;
        break;
      case 'byte':
        if (b.length > 0) b[m.at % b.length] = m.value;
        break;
      case 'length':
      case 'field': {
        const f = pick(m.k === 'length' ? seed.lengthFields : seed.fields, m.field);
        if (f !== undefined) setU32(b, f.offset, m.value, m.swap ? !f.le : f.le);
        break;
      }
      case 'snaplen':
        for (const f of seed.snapFields) setU32(b, f.offset, m.value, f.le);
        break;
      case 'origlen-below-caplen': {
        // The original-length field sits 4 bytes before the data in pcap (orig_len) and pcapng EPB/PB.
        if (packet !== undefined) {
          const le = seed.lengthFields[0]?.le ?? true;
          setU32(b, packet.dataOffset - 4, Math.min(m.value, packet.capturedLength - 1), le);
        }
        break;
      }
      case 'ihl':
        if (packet !== undefined && packet.ipVersion === 4) {
          const at = packet.dataOffset + packet.ipOffset;
          if (at < b.length) b[at] = 0x40 | m.value;
        }
        break;
      case 'ip-length':
        if (packet !== undefined && packet.ipOffset >= 0) {
          const at = packet.dataOffset + packet.ipOffset + (packet.ipVersion === 6 ? 4 : 2);
          if (at + 2 <= b.length) {
            b[at] = m.value >> 8;
            b[at + 1] = m.value & 0xff;
          }
        }
        break;
      case 'tcp-offset':
        if (packet !== undefined && packet.tcpOffset >= 0) {
          const at = packet.dataOffset + packet.tcpOffset + 12;
          if (at < b.length) b[at] = (m.value << 4) | (b[at]! & 0x0f);
        }
        break;
      case 'ipv6-loop':
        // Every extension header names the same kind as its next header, all the way to the end.
        if (packet !== undefined && packet.ipVersion === 6) {
          const ip = packet.dataOffset + packet.ipOffset;
          const end = Math.min(b.length, packet.dataOffset + packet.capturedLength);
          if (ip + 40 <= end) {
            b[ip + 6] = m.next;
            for (let at = ip + 40; at + 2 <= end; at += 8 * (m.length + 1)) {
              b[at] = m.next;
              b[at + 1] = m.length;
            }
          }
        }
        break;
      case 'truncate': {
        const at = pick(seed.boundaries, m.boundary);
        if (at !== undefined) b = b.slice(0, Math.max(0, Math.min(b.length, at + m.delta)));
        break;
      }
      case 'delete-unit': {
        const i = m.unit % Math.max(1, seed.boundaries.length - 1);
        const from = seed.boundaries[i];
        const to = seed.boundaries[i + 1];
        if (from !== undefined && to !== undefined && to <= b.length) b = concat(b.subarray(0, from), b.subarray(to));
        break;
      }
      case 'duplicate-unit': {
        const i = m.unit % Math.max(1, seed.boundaries.length - 1);
        const from = seed.boundaries[i];
        const to = seed.boundaries[i + 1];
        const at = pick(seed.boundaries, m.to);
        if (from !== undefined && to !== undefined && at !== undefined && to <= b.length && at <= b.length) {
          b = concat(b.subarray(0, at), b.subarray(from, to), b.subarray(at));
        }
        break;
      }
      case 'insert': {
        const at = pick(seed.boundaries, m.boundary);
        if (at === undefined || at > b.length) break;
        const le = seed.lengthFields[0]?.le ?? true;
        const what =
          m.what === 'bytes'
            ? Uint8Array.from(m.bytes)
            : m.what === 'pcap-header'
              ? seed.bytes.subarray(0, 24)
              : shb(m.what, m.what === 'shb-other-order' ? !le : le);
        b = concat(b.subarray(0, at), what, b.subarray(at));
        break;
      }
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits `bytes` into chunks of the given sizes, cycled (copies: no chunk shares the input's memory). */
export function chunkBytes(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  if (sizes.length === 0) return [bytes.slice()];
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(bytes.slice(at, at + size));
    at += size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** What the parser made of an input, as plain data comparable across chunkings. */
export interface ParseOutcome {
  readonly error?: { readonly message: string; readonly byteOffset: number };
  readonly records: readonly string[];
  readonly warnings: readonly CaptureWarning[];
  readonly summary?: unknown;
}

/** Small non-cryptographic hash of record bytes, to compare records across chunkings cheaply. */
function fnv(d: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i]!, 0x01000193);
  return h >>> 0;
}

/** Offsets of the packet data from the record/block start: pcap record, pcapng EPB/PB, pcapng SPB. */
const DATA_OFFSETS = [16, 28, 12];

/**
 * Property (a), (c), (d) for one input: pushes `chunks` through a parser and checks, on the fly,
 * that every record's data has `capturedLength` bytes that are the input's own bytes, that the
 * work is structurally bounded (callbacks, warnings), that the carry buffer never outgrows
 * `maxBlockBytes`, and that the only exception is a CaptureFormatError with an in-range offset.
 */
export function parseChecked(input: Uint8Array, chunks: readonly Uint8Array[], maxBlockBytes: number): ParseOutcome {
  const records: string[] = [];
  const warnings: CaptureWarning[] = [];
  let callbacks = 0;
  const core = new ParserCore(
    {
      record(r) {
        callbacks++;
        assert.equal(r.data.length, r.capturedLength, 'data length differs from capturedLength');
        assert.equal(r.frameNumber, records.length + 1, 'frame numbers are consecutive');
        assert.ok(Number.isSafeInteger(r.byteOffset) && r.byteOffset >= 0, 'record byteOffset');
        assert.ok(Number.isSafeInteger(r.tsSec), `tsSec ${r.tsSec}`);
        assert.ok(Number.isInteger(r.tsNanos) && r.tsNanos >= 0 && r.tsNanos < 1e9, `tsNanos ${r.tsNanos}`);
        assert.ok(r.capturedLength + 12 <= maxBlockBytes, 'record larger than maxBlockBytes');
        const inside = DATA_OFFSETS.some((h) => {
          const from = r.byteOffset + h;
          if (from + r.capturedLength > input.length) return false;
          return Buffer.compare(Buffer.from(input.buffer, input.byteOffset + from, r.capturedLength), Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length)) === 0;
        });
        assert.ok(inside, `record ${r.frameNumber} data does not lie within the input`);
        records.push(`${r.frameNumber} if${r.interfaceId} lt${r.linkType} ${r.tsSec}.${r.tsNanos} ${r.capturedLength}/${r.originalLength} @${r.byteOffset} #${fnv(r.data)}`);
      },
      interface() {
        callbacks++;
      },
      statistics() {
        callbacks++;
      },
      comment() {
        callbacks++;
      },
      warning(w) {
        warnings.push(w);
        assert.match(w.code, /^[a-z][a-z0-9_]*$/, 'warning code is snake_case');
        assert.ok(Number.isSafeInteger(w.byteOffset) && w.byteOffset >= 0 && w.byteOffset <= input.length, `warning offset ${w.byteOffset}`);
      },
    },
    { ...DEFAULT_CAPTURE_OPTIONS, maxBlockBytes },
  );
  const carryBound = Math.max(maxBlockBytes, 28);
  try {
    for (const chunk of chunks) {
      core.push(chunk);
      // Memory bound: the carry buffer holds at most one unit, and no unit may exceed maxBlockBytes.
      assert.ok(core['carry'].length <= carryBound, `carry buffer ${core['carry'].length} > ${carryBound}`);
    }
    const summary = core.end();
    // Work bound: every unit is at least 12 bytes, and options at least 4; callbacks cannot outnumber bytes.
    assert.ok(callbacks <= input.length / 4 + 2, `${callbacks} callbacks for ${input.length} bytes`);
    assert.equal(summary.records, records.length);
    assert.ok(summary.bytesRead <= input.length);
    assert.ok(summary.warnings.length <= 10 * 20, 'warnings are capped per code');
    return { records, warnings, summary: { ...summary, warnings: undefined } };
  } catch (error: unknown) {
    if (error instanceof assert.AssertionError) throw error;
    if (!(error instanceof CaptureFormatError)) throw new Error(`parser threw something other than CaptureFormatError: ${String(error)}`, { cause: error });
    assert.ok(Number.isSafeInteger(error.byteOffset) && error.byteOffset >= 0 && error.byteOffset <= input.length, `error offset ${error.byteOffset} for ${input.length} bytes`);
    return { error: { message: error.message, byteOffset: error.byteOffset }, records, warnings };
  }
}

/** The parser property for one case: checked whole and chunked, and the two outcomes agree. */
export function checkCaptureCase(seeds: readonly Seed[], c: Case, maxBlockBytes: number = DEFAULT_CAPTURE_OPTIONS.maxBlockBytes): void {
  const input = mutate(seeds, c);
  const whole = parseChecked(input, [input], maxBlockBytes);
  if (c.chunks.length === 0) return;
  const chunked = parseChecked(input, chunkBytes(input, c.chunks), maxBlockBytes);
  assert.deepEqual(chunked, whole, 'chunking changed the outcome');
}

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];
const DECODE_STATUSES = new Set<number>(Object.values(DecodeStatus));
const ANOMALIES = new Set<string>(Object.values(ANOMALY));

/** A decoder case: a link type, bytes, an optional original length. */
export interface DecodeCase {
  readonly linkType: number;
  readonly data: Uint8Array;
  readonly originalLength: number | undefined;
}

/** Copies the numeric fields of a segment, for comparing two decodes. */
function snapshot(seg: TcpSegment): string {
  return JSON.stringify(seg);
}

const dirty = createTcpSegment();
const fresh = createTcpSegment();
const DIRTY_FRAME = buildTcpFrame({
  src: '2001:db8::9',
  dst: '2001:db8::8',
  srcPort: 1,
  dstPort: 2,
  seq: 7,
  ack: 9,
  flags: 0x1ff,
  payloadLength: 9,
  vlanIds: [1, 2],
  options: { mss: 1, windowScale: 2, sackPermitted: true, timestamps: { tsVal: 3, tsEcr: 4 }, sackBlocks: [[1, 2]] },
});

/**
 * Property (b): decodePacket never throws, returns a known status and anomaly, keeps numbers in
 * range, never points past the captured bytes, and gives the same result in a scratch object
 * left dirty by another packet as in a fresh one.
 */
export function checkDecodeCase(c: DecodeCase): void {
  const status = decodePacket(c.linkType, c.data, fresh, c.originalLength);
  assert.ok(DECODE_STATUSES.has(status), `status ${status}`);
  assert.ok(ANOMALIES.has(fresh.anomaly), `anomaly ${fresh.anomaly}`);
  if (status === DecodeStatus.TRUNCATED || status === DecodeStatus.MALFORMED) assert.notEqual(fresh.anomaly, '');
  for (const key of ['seq', 'ack', 'tsVal', 'tsEcr', 'src0', 'src1', 'src2', 'src3', 'dst0', 'dst1', 'dst2', 'dst3'] as const) {
    assert.ok(Number.isInteger(fresh[key]) && fresh[key] >= 0 && fresh[key] <= 0xffffffff, key);
  }
  if (status === DecodeStatus.TCP) {
    assert.ok(fresh.headerLength >= 20 && fresh.headerLength <= 60);
    assert.ok(fresh.payloadLength >= 0 && fresh.payloadLength <= 0x7fffffff, `payloadLength ${fresh.payloadLength}`);
    assert.ok(fresh.capturedPayloadLength >= 0 && fresh.capturedPayloadLength <= fresh.payloadLength);
    assert.ok(fresh.payloadOffset + fresh.capturedPayloadLength <= c.data.length);
    assert.ok(fresh.sackBlocks >= 0 && fresh.sackBlocks <= 4);
  }
  decodePacket(1, DIRTY_FRAME, dirty);
  const again = decodePacket(c.linkType, c.data, dirty, c.originalLength);
  assert.equal(again, status, 'status depends on the scratch object');
  assert.equal(snapshot(dirty), snapshot(fresh), 'a field survived from the previous packet');
}

/** Frames of every seed packet (copies), as starting points for decoder mutations. */
export function seedFrames(seeds: readonly Seed[]): { linkType: number; frame: Uint8Array; seedPacket: SeedPacket }[] {
  const out: { linkType: number; frame: Uint8Array; seedPacket: SeedPacket }[] = [];
  for (const seed of seeds) {
    const parser = createCaptureParser({
      record(r) {
        const p = seed.packets[r.frameNumber - 1]!;
        out.push({ linkType: r.linkType, frame: r.data.slice(), seedPacket: { ...p, dataOffset: 0 } });
      },
    });
    parser.push(seed.bytes);
    parser.end();
  }
  return out;
}

/** Decoder cases: a seed frame mutated with the packet-level mutations, or random bytes. */
export function decodeCaseArb(seeds: readonly Seed[]): fc.Arbitrary<DecodeCase> {
  const frames = seedFrames(seeds);
  const frameSeeds: Seed[] = frames.map((f, i) => ({
    name: `frame-${i}`,
    bytes: f.frame,
    format: 'pcap',
    boundaries: [0, f.frame.length],
    lengthFields: [],
    fields: [],
    snapFields: [],
    packets: [f.seedPacket],
  }));
  const packetMutation = fc.oneof(
    mutationArb.filter((m) => m.k === 'flip' || m.k === 'byte' || m.k === 'ihl' || m.k === 'ip-length' || m.k === 'tcp-offset' || m.k === 'ipv6-loop'),
    fc.record({ k: fc.constant('truncate' as const), boundary: fc.constant(1), delta: fc.integer({ min: -120, max: 0 }) }),
  );
  const mutated = fc
    .record({
      frame: fc.nat({ max: frames.length - 1 }),
      mutations: fc.array(packetMutation, { minLength: 0, maxLength: 4 }),
      otherLink: fc.option(fc.constantFrom(...LINK_TYPES), { freq: 8, nil: undefined }),
      originalLength: fc.option(fc.oneof(fc.nat({ max: 200 }), fc.constant(0x7fffffff), fc.nat({ max: 0xffffffff })), { nil: undefined }),
    })
    .map((r) => {
      const data = mutate(frameSeeds, { seed: r.frame, mutations: r.mutations });
      return { linkType: r.otherLink ?? frames[r.frame]!.linkType, data, originalLength: r.originalLength };
    });
  const random = fc.record({
    linkType: fc.oneof(fc.constantFrom(...LINK_TYPES), fc.nat({ max: 0xffff })),
    data: fc.uint8Array({ maxLength: 200 }),
    originalLength: fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }),
  });
  return fc.oneof({ arbitrary: mutated, weight: 4 }, { arbitrary: random, weight: 1 });
}

async function* source(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

/** Every number in a report must survive JSON: NaN and ±Infinity would silently become null. */
function assertFiniteNumbers(value: unknown, path: string): void {
  if (typeof value === 'number') assert.ok(Number.isFinite(value), `${path} is ${value}`);
  else if (Array.isArray(value)) value.forEach((v, i) => assertFiniteNumbers(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertFiniteNumbers(v, `${path}.${k}`);
  }
}

/**
 * The whole-analysis property: `analyze()` resolves with a report that JSON can carry without
 * loss, or rejects with a CaptureFormatError whose offset lies within the input.
 */
export async function checkAnalyzeInput(
  input: Uint8Array,
  chunks: readonly Uint8Array[],
  maxOffset: number = input.length,
): Promise<'report' | 'error'> {
  let report;
  try {
    report = await analyze(source(chunks), { file: 'fuzz.pcap' });
  } catch (error: unknown) {
    if (!(error instanceof CaptureFormatError)) throw new Error(`analyze rejected with something other than CaptureFormatError: ${String(error)}`, { cause: error });
    assert.ok(Number.isSafeInteger(error.byteOffset) && error.byteOffset >= 0 && error.byteOffset <= maxOffset, `error offset ${error.byteOffset}`);
    return 'error';
  }
  const json = JSON.stringify(report);
  assert.equal(typeof json, 'string');
  // The flows as records (the report holds them in a compact store, whose buffers are not the point).
  assertFiniteNumbers({ ...report, flows: [...report.flows] }, 'report');
  return 'report';
}

/** Describes a case for a failure message: seed name and mutations. */
export function describeCase(seeds: readonly Seed[], c: Case): string {
  return `seed ${seeds[c.seed % seeds.length]!.name}, mutations ${JSON.stringify(c.mutations)}, chunks ${JSON.stringify(c.chunks)}`;
}
