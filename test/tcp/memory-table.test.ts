import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryRing, MemoryTable } from '../../src/tcp/memory-table.ts';
import type { ClosedIncarnation } from '../../src/tcp/memory-table.ts';
import { STATE_BY_CODE } from '../../src/tcp/flow-state.ts';
import { SMALL_KEY } from '../../src/flow/flow-table.ts';

interface Memory {
  readonly hash: number;
  /** Its sequence number, what the table maps a key to. */
  readonly n: number;
}

// The tracker's contract: one memory per key (hash & SMALL_KEY), a later one replaces it, and
// removing a memory that was replaced leaves the newer one. Checked against a Map model over
// random operation sequences whose hashes collide in the low bits (long probe runs, wraparound
// at the end of the array, growth and backward-shift deletion all happen).
describe('memories of closed incarnations: table by hash, ring of rows', () => {
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
        const table = new MemoryTable();
        const model = new Map<number, Memory>();
        const made: Memory[] = [];
        let n = 0;
        for (const { kind, hash } of ops) {
          const key = hash & SMALL_KEY;
          if (kind === 'set') {
            const m = { hash, n: n++ };
            made.push(m);
            table.set(key, m.n);
            model.set(key, m);
          } else if (kind === 'remove' && made.length > 0) {
            // Any memory ever made, as the tracker's queue removes old ones that may be replaced.
            const m = made[hash % made.length]!;
            table.remove(m.hash & SMALL_KEY, m.n);
            if (model.get(m.hash & SMALL_KEY) === m) model.delete(m.hash & SMALL_KEY);
          } else if (kind === 'removeLatest') {
            const m = model.get(key);
            if (m !== undefined) {
              table.remove(key, m.n);
              model.delete(key);
            }
          }
          for (const k of new Set([key, ...model.keys()])) assert.equal(table.get(k), model.get(k)?.n ?? -1);
        }
      }),
      { seed: 20261124, numRuns: 300 },
    );
  });

  it('keeps every entry through growth past thousands of keys', () => {
    const table = new MemoryTable();
    const all: Memory[] = [];
    for (let i = 0; i < 5000; i++) {
      const m = { hash: (i * 2654435761) >>> 0, n: i };
      all.push(m);
      table.set(m.hash & SMALL_KEY, m.n);
    }
    for (const m of all) assert.equal(table.get(m.hash & SMALL_KEY), m.n);
    for (const m of all.filter((_, i) => i % 2 === 0)) table.remove(m.hash & SMALL_KEY, m.n);
    all.forEach((m, i) => assert.equal(table.get(m.hash & SMALL_KEY), i % 2 === 0 ? -1 : m.n));
  });

  it('ring: every field of a memory reads back as written, across wraparound and growth', () => {
    const ring = new MemoryRing();
    const made = new Map<number, ClosedIncarnation>();
    const memoryOf = (i: number): ClosedIncarnation => ({
      c0: i % 3 === 0 ? 0x20010db8 : 0, c1: i % 3 === 0 ? 0xffffffff : 0, c2: i % 3 === 0 ? 7 : 0xffff, c3: (i * 2654435761) >>> 0,
      cPort: 65535 - (i % 1000), s0: 0, s1: 0, s2: 0xffff, s3: 0xc0a80001, sPort: 443,
      vlan: i % 5 === 0 ? -1 : (i * 97) | 0, flowId: i + 1, incarnation: 1 + (i % 4), hash: (i * 40503 + 0x9e3779b9) >>> 0,
      lastT: 1_700_000_000 + i * 1e-6, finalClient: STATE_BY_CODE[i % 12]!, finalServer: STATE_BY_CODE[(i * 7) % 12]!,
    });
    const out = memoryOf(0);
    let next = 0;
    // Pushes and shifts in waves, so the head moves before each growth.
    for (const [pushes, shifts] of [[700, 500], [1500, 200], [3000, 2900], [5000, 0]] as const) {
      for (let k = 0; k < pushes; k++, next++) {
        const m = memoryOf(next);
        const f = { ...m, id: m.flowId, client: { state: m.finalClient }, server: { state: m.finalServer } };
        assert.equal(ring.push(f), next);
        made.set(next, m);
      }
      for (let k = 0; k < shifts; k++) ring.shift();
      for (let seq = ring.headSeq; seq < ring.headSeq + ring.count; seq++) {
        assert.deepEqual(ring.read(seq, out), made.get(seq));
        assert.equal(ring.keyOf(seq), made.get(seq)!.hash & SMALL_KEY);
        assert.equal(ring.lastTOf(seq), made.get(seq)!.lastT);
      }
    }
    assert.equal(ring.headSeq + ring.count, next);
  });
});
