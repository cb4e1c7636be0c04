/**
 * 64-bit pcapng timestamps become tsSec + tsNanos exactly, for any resolution, checked against
 * BigInt arithmetic on values written with our writer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PcapngWriter } from '../../src/capture/index.ts';
import { readBytes } from './helpers.ts';
import { formatIsoTimestamp, parseIsoTimestamp } from '../../src/common/time.ts';

/** What a reader must return for a timestamp stored in units of base^-exponent s (writer truncates, reader truncates). */
function expected(tsSec: number, tsNanos: number, base: 10 | 2, exponent: number): [number, number] {
  const units = base === 10 ? 10n ** BigInt(exponent) : 2n ** BigInt(exponent);
  const stored = BigInt(tsSec) * units + (BigInt(tsNanos) * units) / 1_000_000_000n;
  return [Number(stored / units), Number(((stored % units) * 1_000_000_000n) / units)];
}

function roundTrip(tsSec: number, tsNanos: number, base: 10 | 2, exponent: number): [number, number] {
  const w = new PcapngWriter();
  w.addInterface({ tsResolution: { base, exponent } });
  w.writeEnhancedPacket(0, { tsSec, tsNanos, data: new Uint8Array(1) });
  const { records } = readBytes(w.toBytes());
  const r = records[0];
  assert.ok(r !== undefined);
  return [r.tsSec, r.tsNanos];
}

test('nanosecond timestamps far past 2^53 ns keep every digit', () => {
  // 2100-01-01 and the last nanosecond of a second: hi*2^32+lo is ~4.1e18 here, far beyond 2^53.
  assert.deepEqual(roundTrip(4_102_444_800, 999_999_999, 10, 9), [4_102_444_800, 999_999_999]);
  assert.deepEqual(roundTrip(1_700_000_000, 1, 10, 9), [1_700_000_000, 1]);
});

test('consecutive packets across a change of the high 32-bit half stay exact', () => {
  // 2^32 ns = 4.294967296 s: pick timestamps on both sides of k * 2^32 ns.
  const w = new PcapngWriter();
  w.addInterface({ tsResolution: { base: 10, exponent: 9 } });
  const boundary = 395_824_015n * 2n ** 32n; // ~1.7e18 ns, mid-2023
  const stamps = [boundary - 1n, boundary, boundary + 1n, boundary - 1n];
  for (const ns of stamps) w.writeEnhancedPacket(0, { tsSec: Number(ns / 1_000_000_000n), tsNanos: Number(ns % 1_000_000_000n), data: new Uint8Array(1) });
  const { records } = readBytes(w.toBytes());
  assert.deepEqual(
    records.map((r) => BigInt(r.tsSec) * 1_000_000_000n + BigInt(r.tsNanos)),
    stamps,
  );
});

test('any timestamp, any decimal or binary resolution: tsSec/tsNanos equal the exact BigInt result', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 33 }),
      fc.integer({ min: 0, max: 999_999_999 }),
      fc.oneof(
        fc.record({ base: fc.constant(10 as const), exponent: fc.integer({ min: 0, max: 12 }) }),
        fc.record({ base: fc.constant(2 as const), exponent: fc.integer({ min: 0, max: 40 }) }),
      ),
      (tsSec, tsNanos, { base, exponent }) => {
        const units = base === 10 ? 10n ** BigInt(exponent) : 2n ** BigInt(exponent);
        // Only timestamps that fit the 64-bit field.
        fc.pre(BigInt(tsSec) * units + units < 2n ** 64n);
        assert.deepEqual(roundTrip(tsSec, tsNanos, base, exponent), expected(tsSec, tsNanos, base, exponent));
      },
    ),
    { seed: 20240611, numRuns: 400 },
  );
});

test('parseIsoTimestamp reads back to the nanosecond what formatIsoTimestamp writes, at 0 to 9 digits', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 4_102_444_800 }), fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 9 }), (sec, nanos, digits) => {
      const kept = digits === 0 ? 0 : Math.floor(nanos / 10 ** (9 - digits)) * 10 ** (9 - digits);
      assert.deepEqual(parseIsoTimestamp(formatIsoTimestamp(sec, nanos, digits)), { sec, nanos: kept });
    }),
    { numRuns: 3000 },
  );
  for (const text of ['2024-01-02T03:04:05', '2024-01-02 03:04:05Z', '2024-01-02T03:04:05.Z', '2024-01-02T03:04:05.1234567890Z', 'end', '']) {
    assert.equal(parseIsoTimestamp(text), undefined, text);
  }
});
