/**
 * Fuzzing the packet decoders (issue 6, item 1): `decodePacket` never throws, for any bytes and any
 * link type, returns a known status and anomaly, keeps its numbers in range, never points past the
 * captured bytes, and gives the same answer in a scratch segment left dirty by another packet.
 * Inputs: frames of the seed captures (IPv4, IPv6 with extension headers, VLAN/QinQ, SLL, SLL2,
 * NULL, raw) with lying IP header lengths, IP total lengths, TCP data offsets and IPv6
 * extension-header loops, plus random bytes. Fixed seed, bounded count.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ANOMALY, DecodeStatus, createTcpSegment, decodePacket } from '../../src/decode/index.ts';
import { buildSeeds, checkDecodeCase, decodeCaseArb, mutate, seedFrames, type Seed } from './harness.ts';

const SEED = 0x0dec0de;
const seeds = buildSeeds();
const frames = seedFrames(seeds);
const TIMEOUT = { timeout: 120_000 };

/** One seed frame as a one-packet "seed", so the packet-level mutations of the harness apply to it. */
function frameSeed(i: number): Seed[] {
  const f = frames[i]!;
  return [{ name: `frame-${i}`, bytes: f.frame, format: 'pcap', boundaries: [0, f.frame.length], lengthFields: [], fields: [], snapFields: [], packets: [f.seedPacket] }];
}

describe('decoder fuzz', () => {
  it('100,000 mutated and random frames: never throws, known status and anomaly, numbers in range', TIMEOUT, () => {
    fc.assert(fc.property(decodeCaseArb(seeds), (c) => checkDecodeCase(c)), { seed: SEED, numRuns: 100_000 });
  });

  it('every IPv4 header length and every TCP data offset on every seed frame, with and without the original length', TIMEOUT, () => {
    for (let i = 0; i < frames.length; i++) {
      for (let value = 0; value < 16; value++) {
        for (const k of ['ihl', 'tcp-offset'] as const) {
          const data = mutate(frameSeed(i), { seed: 0, mutations: [{ k, packet: 0, value }] });
          for (const originalLength of [undefined, data.length, 0, 0xffffffff]) {
            checkDecodeCase({ linkType: frames[i]!.linkType, data, originalLength });
          }
        }
      }
    }
  });

  it('IPv6 extension-header loops stop after a bounded walk', () => {
    const seg = createTcpSegment();
    let loops = 0;
    for (let i = 0; i < frames.length; i++) {
      if (frames[i]!.seedPacket.ipVersion !== 6) continue;
      for (const next of [0, 43, 44, 51, 60]) {
        for (let length = 0; length < 4; length++) {
          const data = mutate(frameSeed(i), { seed: 0, mutations: [{ k: 'ipv6-loop', packet: 0, next, length }] });
          checkDecodeCase({ linkType: frames[i]!.linkType, data, originalLength: undefined });
          decodePacket(frames[i]!.linkType, data, seg);
          if (seg.anomaly === ANOMALY.IPV6_EXTENSION_LOOP) loops++;
        }
      }
    }
    assert.ok(loops > 0, 'some chains were long enough to hit the extension-header limit');
  });

  it('regression: an original length of 2^31 or more does not turn IP length 0 (TSO) into a 4 GiB payload', () => {
    // Found by the fuzzer (fixtures/regressions/tso-origlen-4g.pcap): SLL, IPv4 total length 0.
    const tso = frames.find((f) => f.linkType === 113 && f.frame[16 + 2] === 0 && f.frame[16 + 3] === 0);
    assert.ok(tso !== undefined);
    const seg = createTcpSegment();
    for (const originalLength of [0x80000038, 0xffffffff, 0x7fffffff]) {
      assert.equal(decodePacket(113, tso.frame, seg, originalLength), DecodeStatus.TCP);
      assert.equal(seg.payloadLength, 0, `originalLength ${originalLength}`);
    }
  });
});
