import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryTable } from '../../src/tcp/memory-table.ts';
import { SMALL_KEY } from '../../src/flow/flow-table.ts';

interface Memory {
  readonly hash: number;
  readonly n: number;
}

// The tracker's contract: one memory per key (hash & SMALL_KEY), a later one replaces it, and
// removing a memory that was replaced leaves the newer one. Checked against a Map model over
// random operation sequences whose hashes collide in the low bits (long probe runs, wraparound
// at the end of the array, growth and backward-shift deletion all happen).
describe('memory table (closed incarnations by hash)', () => {
  it('behaves like a Map from hash & SMALL_KEY to the latest memory', () => {
    const op = fc.record({
      kind: fc.constantFrom('set', 'set', 'remove', 'removeLatest', 'get'),
      // 40 keys on 8 home slots around the end of the first 1024-slot array (five keys a home),
      // and bits above SMALL_KEY that must not matter.
      hash: fc
        .tuple(fc.integer({ min: 0, max: 39 }), fc.integer({ min: 0, max: 3 }))
        .map(([k, high]) => ((high << 30) | (1020 + (k % 8) + 1024 * (k >> 3))) >>> 0),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const table = new MemoryTable<Memory>();
        const model = new Map<number, Memory>();
        const made: Memory[] = [];
        let n = 0;
        for (const { kind, hash } of ops) {
          const key = hash & SMALL_KEY;
          if (kind === 'set') {
            const m = { hash, n: n++ };
            made.push(m);
            table.set(m);
            model.set(key, m);
          } else if (kind === 'remove' && made.length > 0) {
            // Any memory ever made, as the tracker's queue removes old ones that may be replaced.
            const m = made[hash % made.length]!;
            table.remove(m);
            if (model.get(m.hash & SMALL_KEY) === m) model.delete(m.hash & SMALL_KEY);
          } else if (kind === 'removeLatest') {
            const m = model.get(key);
            if (m !== undefined) {
              table.remove(m);
              model.delete(key);
            }
          }
          for (const k of new Set([key, ...model.keys()])) assert.equal(table.get(k), model.get(k));
        }
      }),
      { seed: 20261124, numRuns: 300 },
    );
  });

  it('keeps every entry through growth past thousands of keys', () => {
    const table = new MemoryTable<Memory>();
    const all: Memory[] = [];
    for (let i = 0; i < 5000; i++) {
      const m = { hash: (i * 2654435761) >>> 0, n: i };
      all.push(m);
      table.set(m);
    }
    for (const m of all) assert.equal(table.get(m.hash & SMALL_KEY), m);
    for (const m of all.filter((_, i) => i % 2 === 0)) table.remove(m);
    all.forEach((m, i) => assert.equal(table.get(m.hash & SMALL_KEY), i % 2 === 0 ? undefined : m));
  });
});
