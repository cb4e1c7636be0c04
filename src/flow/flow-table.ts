/**
 * The live flow table: a hash map from the symmetric {@link flowHash} to a chain of entries,
 * confirmed field by field. Lookup and removal allocate nothing; insertion allocates only what a
 * `Map` needs for a new bucket.
 *
 * Why a `Map<number, entry>` with intrusive chains rather than string keys: integer keys stay
 * small integers inside V8's hash table (no string hashing, no garbage per packet), and a 32-bit
 * collision between two live flows is rare enough that a singly linked chain through the entries
 * themselves (`chainNext`) costs nothing in the common case.
 *
 * @module
 */

import type { TcpSegment } from '../decode/types.ts';
import { matchesEndpoints } from './flow-key.ts';
import type { FlowKeyFields } from './flow-key.ts';

/**
 * Bucket keys are the hash's low 30 bits: V8 keeps integers below 2^30 as small integers, so a
 * Map lookup by them hashes no heap number (a full 32-bit key cost a heap-number hash on every
 * packet for three hashes in four). The chains absorb the few extra collisions.
 */
export const SMALL_KEY = 0x3fffffff;

/** What the table needs from an entry: the key fields, the cached hash and the chain link. */
export interface FlowTableEntry<T> extends FlowKeyFields {
  /** {@link flowHash} of the entry's tuple, set by the caller before {@link FlowTable.insert}. */
  hash: number;
  /** Next entry with the same hash; managed by the table. */
  chainNext: T | null;
}

/** Hash table of live entries keyed by the symmetric 4-tuple + VLAN key. */
export class FlowTable<T extends FlowTableEntry<T>> {
  private readonly buckets = new Map<number, T>();
  private count = 0;

  /** Number of entries in the table. */
  get size(): number {
    return this.count;
  }

  /** The entry for the segment's tuple (either direction), or undefined. `hash` = flowHash(seg). */
  lookup(seg: TcpSegment, hash: number): T | undefined {
    let e = this.buckets.get(hash & SMALL_KEY);
    while (e !== undefined) {
      if (matchesEndpoints(e, seg)) return e;
      const next: T | null = e.chainNext;
      e = next === null ? undefined : next;
    }
    return undefined;
  }

  /** Adds an entry (its tuple must not be in the table yet). */
  insert(entry: T): void {
    const key = entry.hash & SMALL_KEY;
    const head = this.buckets.get(key);
    entry.chainNext = head === undefined ? null : head;
    this.buckets.set(key, entry);
    this.count++;
  }

  /** Removes an entry that is in the table. Returns false when it was not there. */
  remove(entry: T): boolean {
    const key = entry.hash & SMALL_KEY;
    const head = this.buckets.get(key);
    if (head === undefined) return false;
    if (head === entry) {
      if (entry.chainNext === null) this.buckets.delete(key);
      else this.buckets.set(key, entry.chainNext);
      entry.chainNext = null;
      this.count--;
      return true;
    }
    let prev: T = head;
    while (prev.chainNext !== null) {
      if (prev.chainNext === entry) {
        prev.chainNext = entry.chainNext;
        entry.chainNext = null;
        this.count--;
        return true;
      }
      prev = prev.chainNext;
    }
    return false;
  }

  /** Every entry, in no particular order (for end of capture). Allocates the array. */
  values(): T[] {
    const out: T[] = [];
    for (const head of this.buckets.values()) {
      for (let e: T | null = head; e !== null; e = e.chainNext) out.push(e);
    }
    return out;
  }
}
