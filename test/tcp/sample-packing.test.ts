/**
 * A live flow's segment samples are packed six numbers each (src/tcp/flow-state.ts,
 * SAMPLE_FIELDS): every field comes back exactly over its whole range, including the extremes
 * the decoders can produce (a payload length up to 2^32 - 1 from a TSO frame's original length,
 * the NS flag, frame numbers and seconds past 2^32).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packSampleLength, packSampleWord, SAMPLE_FIELDS, unpackSample } from '../../src/tcp/flow-state.ts';
import type { UnpackedSample } from '../../src/tcp/flow-state.ts';

const U32 = 0xffffffff;

function roundTrip(x: UnpackedSample): UnpackedSample {
  const arr = new Float64Array(3 * SAMPLE_FIELDS);
  const at = SAMPLE_FIELDS; // not at 0, so offsets count
  arr[at] = x.frame;
  arr[at + 1] = x.tsSec;
  arr[at + 2] = packSampleWord(x.tsNanos, x.flags, x.retx, x.fromClient);
  arr[at + 3] = x.seq;
  arr[at + 4] = x.ack;
  arr[at + 5] = packSampleLength(x.len, x.window);
  const out: UnpackedSample = { frame: 0, tsSec: 0, tsNanos: 0, fromClient: false, flags: 0, retx: 0, seq: 0, ack: 0, len: 0, window: 0 };
  unpackSample(arr, at, out);
  return out;
}

const sample = fc.record({
  frame: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  tsSec: fc.integer({ min: 0, max: 2 ** 40 }),
  tsNanos: fc.integer({ min: 0, max: 999_999_999 }),
  fromClient: fc.boolean(),
  flags: fc.integer({ min: 0, max: 511 }),
  retx: fc.integer({ min: 0, max: 7 }),
  seq: fc.integer({ min: 0, max: U32 }),
  ack: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: U32 })),
  len: fc.integer({ min: 0, max: U32 }),
  window: fc.integer({ min: 0, max: 0xffff }),
});

describe('segment sample packing', () => {
  it('gives back every field exactly (100,000 random samples)', () => {
    fc.assert(
      fc.property(sample, (x) => {
        // fast-check's records have no prototype; compare fields, not prototypes.
        assert.deepEqual(roundTrip(x), { ...x });
      }),
      { numRuns: 100_000, seed: 20261124 },
    );
  });

  it('gives back the extremes of every field', () => {
    for (const tsNanos of [0, 1, 999_999_999]) {
      for (const flags of [0, 1, 0x100, 511]) {
        for (const retx of [0, 5, 7]) {
          for (const fromClient of [false, true]) {
            for (const [len, window] of [[0, 0], [U32, 0xffff], [65_535, 1], [1, 0xffff]] as const) {
              const x = { frame: 2 ** 33, tsSec: 2 ** 32 + 1, tsNanos, fromClient, flags, retx, seq: U32, ack: -1, len, window };
              assert.deepEqual(roundTrip(x), x);
            }
          }
        }
      }
    }
  });
});
