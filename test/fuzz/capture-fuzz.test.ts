/**
 * Fuzzing the capture reader (issue 6, item 1): structure-aware mutations of small valid captures
 * made with our own writers, pushed whole and re-chunked. Fixed seed and a bounded number of
 * inputs, so CI runs the same inputs every time; `npm run fuzz` runs more with a random seed.
 *
 * Properties (see test/fuzz/harness.ts, `parseChecked`): only CaptureFormatError (with an
 * in-range byte offset) or a summary; each record's data has `capturedLength` bytes taken from the
 * input; frame numbers consecutive; warnings snake_case with in-range offsets; callbacks bounded
 * by the input length (no hang: the work per input is bounded structurally, and node:test's
 * `timeout` catches a loop); the carry buffer never outgrows `maxBlockBytes`; and chunking the
 * input never changes the outcome.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildSeeds, caseArb, checkCaptureCase, chunkBytes, parseChecked } from './harness.ts';

const SEED = 0x7c9a11;
const seeds = buildSeeds();
const TIMEOUT = { timeout: 120_000 };
/** Block and record lengths that break framing: zero, below any header, unaligned, 2^31, 2^32-1. */
const LENGTH_VALUES = [0, 3, 4, 12, 13, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];

describe('capture reader fuzz', () => {
  it('30,000 mutated captures: typed error or summary, records inside the input, chunking changes nothing', TIMEOUT, () => {
    fc.assert(fc.property(caseArb(seeds.length), (c) => checkCaptureCase(seeds, c)), { seed: SEED, numRuns: 30_000 });
  });

  it('10,000 mutated captures with a small maxBlockBytes: carry buffer and records stay within it', TIMEOUT, () => {
    fc.assert(
      fc.property(caseArb(seeds.length), fc.constantFrom(64, 100, 200, 600, 1000, 5000), (c, limit) => checkCaptureCase(seeds, c, limit)),
      { seed: SEED + 1, numRuns: 10_000 },
    );
  });

  it('every seed truncated at every byte (every record boundary and inside every header), whole and in 7-byte chunks', TIMEOUT, () => {
    let inputs = 0;
    for (const seed of seeds) {
      for (let length = 0; length <= seed.bytes.length; length++) {
        const input = seed.bytes.subarray(0, length);
        const whole = parseChecked(input, [input], 1 << 20);
        assert.deepEqual(parseChecked(input, chunkBytes(input, [7]), 1 << 20), whole, `${seed.name} cut at ${length}`);
        inputs += 2;
        if (seed.boundaries.includes(length) && length > 24) {
          // Cut at a record boundary: a clean end, every record before it kept.
          assert.equal(whole.error, undefined, `${seed.name} cut at boundary ${length}`);
        }
      }
    }
    assert.ok(inputs > 10_000);
  });

  it('every length field set to 0, 3, 2^31, 2^32-1 and other breaking values, in both byte orders (whole, and in 64-byte chunks)', TIMEOUT, () => {
    for (let s = 0; s < seeds.length; s++) {
      const seed = seeds[s]!;
      for (let field = 0; field < seed.lengthFields.length; field++) {
        for (const value of LENGTH_VALUES) {
          for (const swap of [false, true]) {
            checkCaptureCase(seeds, { seed: s, mutations: [{ k: 'length', field, value, swap }], chunks: swap ? [64] : [] });
          }
        }
      }
    }
  });

  it('regression: a 4 KiB floor and doubling no longer take the carry buffer past a small maxBlockBytes', () => {
    // Found by the small-limit property above: the first straddling unit grew the carry to 4096
    // bytes with maxBlockBytes 64 (and doubling could reach twice any limit).
    const seed = seeds[0]!;
    const outcome = parseChecked(seed.bytes, chunkBytes(seed.bytes, [1]), 64);
    assert.equal(outcome.warnings[0]?.code, 'record_too_large');
  });
});
