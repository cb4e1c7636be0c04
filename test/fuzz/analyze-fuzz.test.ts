/**
 * Fuzzing the whole analysis (issue 6, item 1): reader, decoder, flow tracker, detectors and the
 * report model, on mutated captures (some of them gzip-compressed, then damaged). `analyze()` must
 * resolve with a report that JSON carries without loss (no NaN or Infinity), or reject with a
 * CaptureFormatError whose byte offset lies within the input; nothing else. Fixed seed.
 */
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { buildSeeds, caseArb, checkAnalyzeInput, chunkBytes, mutate } from './harness.ts';

const SEED = 0xa7a1;
const seeds = buildSeeds();
const TIMEOUT = { timeout: 120_000 };

describe('analyze() fuzz', () => {
  it('2,000 mutated captures: a report JSON can carry, or a CaptureFormatError', TIMEOUT, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb(seeds.length), async (c) => {
        const input = mutate(seeds, c);
        await checkAnalyzeInput(input, chunkBytes(input, c.chunks));
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('300 gzip-compressed captures, damaged after compression', TIMEOUT, async () => {
    const gzipped = seeds.map((s) => gzipSync(s.bytes));
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat({ max: 1 << 16 }), fc.nat({ max: 7 })), { maxLength: 3 }),
        fc.option(fc.nat({ max: 1 << 16 }), { nil: undefined }),
        fc.constantFrom<number[]>([], [1], [13], [100]),
        async (s, flips, cut, chunks) => {
          const input = gzipped[s]!.slice();
          for (const [at, bit] of flips) input[at % input.length]! ^= 1 << bit;
          const cutInput = cut === undefined ? input : input.subarray(0, cut % input.length);
          // Offsets of a gzip input are offsets in the decompressed stream: check typing only.
          await checkAnalyzeInput(cutInput, chunkBytes(cutInput, chunks), Number.MAX_SAFE_INTEGER);
        },
      ),
      { seed: SEED + 1, numRuns: 300 },
    );
  });
});
