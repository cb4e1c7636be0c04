/**
 * Durations as the report and the terminal summary show them (fmtDuration): each unit rounded
 * before it is split, so a capture of 119.9 s reads "2 min 0 s", never "1 min 60 s".
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fmtDuration } from '../../src/report/format.ts';

it('fmtDuration: each unit rounded before it is split, never 60 of a smaller unit', () => {
  const cases: [number, string][] = [
    [0, '0 s'],
    [0.0005, '500 µs'],
    [0.25, '250 ms'],
    [5.5, '5.5 s'],
    [59.94, '59.9 s'],
    [59.97, '1 min 0 s'],
    [119.4, '1 min 59 s'],
    [119.7, '2 min 0 s'],
    [3599.6, '1 h 0 min'],
    [3725, '1 h 2 min'],
    [7199.9, '2 h 0 min'],
    [-90, '-1 min 30 s'],
  ];
  for (const [seconds, text] of cases) assert.equal(fmtDuration(seconds), text, String(seconds));
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), (seconds) => {
      const text = fmtDuration(seconds);
      assert.doesNotMatch(text, /(^|\D)60 (s|min)$/, `${seconds} -> ${text}`);
    }),
    { numRuns: 5000 },
  );
});
