/**
 * Findings whose group holds every connection of a busy listener: the statistics over a group
 * (earliest, latest, peak, series) take hundreds of thousands of values without spreading them
 * into function arguments, which throws past about 120,000 ("Maximum call stack size exceeded").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { maxOf, minOf } from '../../src/diagnose/util.ts';
import { peakOverlap, portsLeftText, timeWaitSeries } from '../../src/diagnose/time-wait-churn.ts';
import { flowIndex } from '../../src/diagnose/aggregates.ts';
import { scenarioReport, SCENARIOS } from '../report/reports.ts';

describe('statistics over large groups', () => {
  it('maxOf and minOf give what Math.max and Math.min give over the same values', () => {
    const value = fc.oneof(fc.double(), fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 40 }), (values) => {
        assert.ok(Object.is(maxOf(values), Math.max(...values)), `max of ${values.join(',')}`);
        assert.ok(Object.is(minOf(values), Math.min(...values)), `min of ${values.join(',')}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('take 500,000 values', () => {
    const values = Array.from({ length: 500_000 }, (_, i) => (i * 7919) % 500_000);
    assert.equal(maxOf(values), 499_999);
    assert.equal(minOf(values), 0);
  });

  it('a TIME_WAIT series and peak over 300,000 closes (one per millisecond, 60 s each)', () => {
    const closes = Array.from({ length: 300_000 }, (_, i) => 1_700_000_000 + i / 1000);
    // 60 s of closes at 1,000/s overlap at once.
    assert.equal(peakOverlap(closes, 60), 60_000);
    const series = timeWaitSeries(closes, 60, 7);
    assert.equal(series.length, 7);
    assert.equal(series[0]!.sockets, 1);
    assert.equal(Math.max(...series.map((p) => p.sockets)), 60_000);
  });

  it('says by how much a TIME_WAIT estimate exceeds the port range, not a negative count left', () => {
    assert.equal(portsLeftText(18903, 28232), '18903 of 28232 left');
    assert.equal(portsLeftText(0, 28232), '0 of 28232 left');
    assert.equal(portsLeftText(-91768, 28232), '91768 more than the 28232 of the range');
  });

  // A storm (resets, refusals, reuses, leaks, half-open connections) can make every connection a
  // candidate of some detector: the shared pre-pass keeps positions and small facts, never the
  // records (which held ~2.7 KB each: 1.1 GB of heap for a 260,000-connection storm).
  it('the shared pre-pass keeps no flow record, whatever the capture', async () => {
    for (const name of SCENARIOS) {
      const report = await scenarioReport(name);
      const index = flowIndex({ flows: report.flows, capture: report.capture });
      for (const [key, value] of Object.entries(index)) {
        if (!Array.isArray(value)) continue;
        for (const item of value as unknown[]) {
          assert.ok(
            !(typeof item === 'object' && item !== null && ('segments' in item || 'transitions' in item)),
            `${name}: index.${key} holds a flow record`,
          );
        }
      }
    }
  });
});
