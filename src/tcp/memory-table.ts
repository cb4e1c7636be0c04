/**
 * A small hash table from the low 30 bits of a flow hash to one entry, for the flow tracker's
 * memories of closed incarnations.
 *
 * @module
 */

import { SMALL_KEY } from '../flow/flow-table.ts';

/**
 * The tracker's memories of closed incarnations by the low 30 bits of their tuple hash (see
 * FlowTracker.retire), one per key: a
 * colliding tuple replaces the memory (a lost `previous` link, never a wrong one, since lookups
 * compare every field). Open addressing with linear probing over an Int32Array of keys, so that
 * the lookup every new flow makes (almost always a miss) reads one small array and no memory
 * object: a `Map`, or chains through the memories, cost a tenth of the tracker's time in cache
 * misses. Removal shifts the following run back (no tombstones), so probes stay short.
 */
export class MemoryTable<T extends { readonly hash: number }> {
  /** Key + 1 per slot (0: empty); keys are below 2^30. */
  private keys = new Int32Array(1024);
  private values: (T | null)[] = new Array<T | null>(1024).fill(null);
  private mask = 1023;
  private count = 0;

  get(key: number): T | undefined {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = key & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === 0) return undefined;
      if (k === key + 1) return this.values[i]!;
    }
  }

  /** Adds a memory, replacing the one with the same key if any. */
  set(memory: T): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const key = memory.hash & SMALL_KEY;
    const keys = this.keys;
    const mask = this.mask;
    let i = key & mask;
    for (; keys[i] !== 0; i = (i + 1) & mask) {
      if (keys[i] === key + 1) {
        this.values[i] = memory;
        return;
      }
    }
    keys[i] = key + 1;
    this.values[i] = memory;
    this.count++;
  }

  /** Removes this memory if it is in the table (it is not once a later one replaced it). */
  remove(memory: T): void {
    const key = memory.hash & SMALL_KEY;
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let i = key & mask;
    for (; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === 0) return;
      if (k === key + 1) break;
    }
    if (values[i] !== memory) return;
    // Backward-shift deletion: move up every later entry of the run that may sit at the hole.
    let hole = i;
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = (keys[j]! - 1) & mask;
      // The entry at j may move to the hole when its home is not in (hole, j] (cyclically).
      if (hole <= j ? home > hole && home <= j : home > hole || home <= j) continue;
      keys[hole] = keys[j]!;
      values[hole] = values[j]!;
      hole = j;
    }
    keys[hole] = 0;
    values[hole] = null;
    this.count--;
  }

  clear(): void {
    this.keys = new Int32Array(1024);
    this.values = new Array<T | null>(1024).fill(null);
    this.mask = 1023;
    this.count = 0;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Int32Array(oldKeys.length * 2);
    this.values = new Array<T | null>(oldKeys.length * 2).fill(null);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== 0) this.set(oldValues[i]!);
  }
}
