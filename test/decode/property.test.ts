import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ANOMALY, DecodeStatus, createTcpSegment, decodeFrame, decodePacket, formatAddress } from '../../src/decode/index.ts';
import { buildTcpFrame } from '../../src/synth/packet-builder.ts';
import type { TcpFrameSpec } from '../../src/synth/packet-builder.ts';
import { parseAddress } from '../../src/decode/address-parse.ts';

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];
const ANOMALY_NAMES = new Set<string>(Object.values(ANOMALY));
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });

/** Checks the invariants that hold for any input: a known status, a known anomaly, sane numbers. */
function checkInvariants(linkType: number, data: Uint8Array, originalLength?: number): void {
  const seg = createTcpSegment();
  const status = decodePacket(linkType, data, seg, originalLength);
  assert.ok(Object.values(DecodeStatus).includes(status));
  assert.ok(ANOMALY_NAMES.has(seg.anomaly), seg.anomaly);
  if (status === DecodeStatus.TRUNCATED || status === DecodeStatus.MALFORMED) assert.notEqual(seg.anomaly, '');
  for (const key of ['seq', 'ack', 'tsVal', 'tsEcr', 'src0', 'src3', 'dst0', 'dst3'] as const) {
    assert.ok(seg[key] >= 0 && seg[key] <= 0xffffffff, key);
  }
  if (status === DecodeStatus.TCP) {
    assert.ok(seg.headerLength >= 20 && seg.headerLength <= 60);
    assert.ok(seg.capturedPayloadLength >= 0 && seg.capturedPayloadLength <= seg.payloadLength);
    assert.ok(seg.payloadOffset + seg.capturedPayloadLength <= data.length);
    assert.ok(seg.sackBlocks >= 0 && seg.sackBlocks <= 4);
  }
}

const ipv4 = fc.tuple(u32).map(([w]) => `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`);
const ipv6 = fc.tuple(u32, u32, u32, u32).map((w) => formatAddress(w[0], w[1], w[2] === 0xffff ? 0xfffe : w[2], w[3]));

const specArbitrary: fc.Arbitrary<TcpFrameSpec & { readonly ipVersion: 4 | 6 }> = fc
  .record({
    link: fc.constantFrom(1, 113, 276, 0, 108, 101, 228, 229, 12, 14),
    vlanIds: fc.array(fc.integer({ min: 0, max: 4095 }), { maxLength: 2 }),
    ipVersion: fc.constantFrom(4 as const, 6 as const),
    v4: fc.tuple(ipv4, ipv4),
    v6: fc.tuple(ipv6, ipv6),
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    ack: u32,
    flags: fc.integer({ min: 0, max: 0x1ff }),
    window: u16,
    ttl: fc.integer({ min: 0, max: 255 }),
    ipId: u16,
    payloadLength: fc.integer({ min: 0, max: 3000 }),
    mss: fc.option(u16, { nil: undefined }),
    windowScale: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
    sackPermitted: fc.boolean(),
    timestamps: fc.option(fc.record({ tsVal: u32, tsEcr: u32 }), { nil: undefined }),
    sackBlocks: fc.array(fc.tuple(u32, u32), { maxLength: 2 }),
    nullBigEndian: fc.boolean(),
  })
  .map((r) => {
    const linkType = r.link === 228 || r.link === 229 ? (r.ipVersion === 4 ? 228 : 229) : r.link;
    const [src, dst] = r.ipVersion === 4 ? r.v4 : r.v6;
    const options = {
      ...(r.mss !== undefined ? { mss: r.mss } : {}),
      ...(r.windowScale !== undefined ? { windowScale: r.windowScale } : {}),
      ...(r.timestamps !== undefined ? { timestamps: r.timestamps } : {}),
      sackPermitted: r.sackPermitted,
      sackBlocks: r.sackBlocks,
    };
    return {
      linkType,
      ...(linkType === 1 ? { vlanIds: r.vlanIds } : {}),
      nullByteOrder: r.nullBigEndian ? ('big-endian' as const) : ('little-endian' as const),
      ipVersion: r.ipVersion,
      src,
      dst,
      srcPort: r.srcPort,
      dstPort: r.dstPort,
      seq: r.seq,
      ack: r.ack,
      flags: r.flags,
      window: r.window,
      ttl: r.ttl,
      ipId: r.ipId,
      payloadLength: r.payloadLength,
      options,
    };
  });

describe('decodePacket properties', () => {
  it('never throws on any bytes for any link type', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...LINK_TYPES), fc.integer({ min: 0, max: 300 })),
        fc.uint8Array({ maxLength: 200 }),
        fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined }),
        (linkType, data, originalLength) => checkInvariants(linkType, data, originalLength),
      ),
      { numRuns: 5000 },
    );
  });

  it('never throws on valid frames with bytes flipped and cut anywhere', () => {
    fc.assert(
      fc.property(
        specArbitrary,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (spec, flips, cut) => {
          const frame = buildTcpFrame(spec);
          for (const [index, value] of flips) frame[index % frame.length] = value;
          const captured = frame.subarray(0, cut % (frame.length + 1));
          checkInvariants(spec.linkType ?? 1, captured, frame.length);
          checkInvariants(spec.linkType ?? 1, captured);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('builder → decoder round-trips every field, whole or cut after the headers', () => {
    fc.assert(
      fc.property(specArbitrary, fc.nat(), (spec, cutSeed) => {
        const frame = buildTcpFrame(spec);
        const headerEnd = frame.length - (spec.payloadLength ?? 0);
        const cut = headerEnd + (cutSeed % ((spec.payloadLength ?? 0) + 1));
        const seg = createTcpSegment();
        const status = decodePacket(spec.linkType ?? 1, frame.subarray(0, cut), seg, frame.length);
        assert.equal(status, DecodeStatus.TCP);
        const src = parseAddress(spec.src);
        const dst = parseAddress(spec.dst);
        const o = spec.options ?? {};
        const vlans = spec.vlanIds ?? [];
        assert.deepEqual(
          {
            ipVersion: seg.ipVersion,
            src: [seg.src0, seg.src1, seg.src2, seg.src3],
            dst: [seg.dst0, seg.dst1, seg.dst2, seg.dst3],
            vlanKey: seg.vlanKey,
            srcPort: seg.srcPort,
            dstPort: seg.dstPort,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: seg.window,
            ttl: seg.ttl,
            ipId: seg.ipId,
            payloadLength: seg.payloadLength,
            capturedPayloadLength: seg.capturedPayloadLength,
            payloadOffset: seg.payloadOffset,
            truncated: seg.truncated,
            mss: seg.mss,
            windowScale: seg.windowScale,
            sackPermitted: seg.sackPermitted,
            sackBlocks: seg.sackBlocks,
            hasTimestamps: seg.hasTimestamps,
            tsVal: seg.tsVal,
            tsEcr: seg.tsEcr,
            anomaly: seg.anomaly,
          },
          {
            ipVersion: spec.ipVersion,
            src,
            dst,
            vlanKey: vlans.length === 0 ? -1 : vlans.length === 1 ? vlans[0] : (vlans[0]! << 12) | vlans[1]!,
            srcPort: spec.srcPort,
            dstPort: spec.dstPort,
            seq: spec.seq,
            ack: spec.ack,
            flags: spec.flags,
            window: spec.window,
            ttl: spec.ttl,
            ipId: spec.ipVersion === 4 ? spec.ipId : -1,
            payloadLength: spec.payloadLength,
            capturedPayloadLength: cut - headerEnd,
            payloadOffset: headerEnd,
            truncated: cut < frame.length,
            mss: o.mss ?? -1,
            windowScale: o.windowScale ?? -1,
            sackPermitted: o.sackPermitted ?? false,
            sackBlocks: o.sackBlocks?.length ?? 0,
            hasTimestamps: o.timestamps !== undefined,
            tsVal: o.timestamps?.tsVal ?? 0,
            tsEcr: o.timestamps?.tsEcr ?? 0,
            anomaly: spec.srcPort === 0 || spec.dstPort === 0 ? ANOMALY.TCP_PORT_ZERO : '',
          },
        );
      }),
      { numRuns: 2000 },
    );
  });

  // The analysis decodes each record where it lies in the reader's chunk (decodeFrame), not from a
  // view of its own: bytes before and after the frame (other records, headers) must change nothing.
  it('a frame decoded in place inside a larger buffer gives what a copy of it gives', () => {
    fc.assert(
      fc.property(
        specArbitrary,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined }),
        (spec, flips, cut, before, after, originalLength) => {
          const frame = buildTcpFrame(spec);
          for (const [index, value] of flips) frame[index % frame.length] = value;
          const captured = frame.slice(0, cut % (frame.length + 1));
          const buffer = new Uint8Array(before.length + captured.length + after.length);
          buffer.set(before, 0);
          buffer.set(captured, before.length);
          buffer.set(after, before.length + captured.length);
          const alone = createTcpSegment();
          const inPlace = createTcpSegment();
          const wire = originalLength ?? frame.length;
          const statusAlone = decodePacket(spec.linkType ?? 1, captured, alone, wire);
          const start = before.length;
          const statusInPlace = decodeFrame(spec.linkType ?? 1, buffer, start, start + captured.length, inPlace, wire);
          assert.equal(statusInPlace, statusAlone);
          // payloadOffset counts from the start of the bytes given (set only for TCP; 0 otherwise).
          const payloadOffset = statusInPlace === DecodeStatus.TCP ? inPlace.payloadOffset - start : inPlace.payloadOffset;
          assert.deepEqual({ ...inPlace, payloadOffset }, { ...alone });
        },
      ),
      { numRuns: 3000 },
    );
  });
});
