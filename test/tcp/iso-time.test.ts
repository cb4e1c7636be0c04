/**
 * The record path's ISO formatter (src/tcp/iso-time.ts: cached second prefixes, the fraction
 * built from three-digit groups) writes exactly what formatIsoTimestamp writes, for every number
 * of fractional digits a capture can have (0..9) and the whole nanosecond range.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIsoTimestamp } from '../../src/common/time.ts';
import { IsoFormatter } from '../../src/tcp/iso-time.ts';

describe('IsoFormatter', () => {
  it('matches formatIsoTimestamp for 0..9 fractional digits (50,000 random times each, and the edges)', () => {
    for (let digits = 0; digits <= 9; digits++) {
      const iso = new IsoFormatter(digits);
      for (const [sec, nanos] of [[0, 0], [1_700_000_000, 999_999_999], [1_700_000_000, 1], [4_294_967_295, 500_000_000], [1_700_000_001, 10_000]]) {
        assert.equal(iso.format(sec!, nanos!), formatIsoTimestamp(sec!, nanos!, digits), `${digits} digits: ${sec}.${nanos}`);
      }
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 999_999_999 }), (sec, nanos) => {
          assert.equal(iso.format(sec, nanos), formatIsoTimestamp(sec, nanos, digits));
        }),
        { numRuns: 50_000, seed: 20261124 + digits },
      );
    }
  });
});
