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
 * The low 30 bits of a flow hash, for a `Map` keyed by flow hashes (the tracker's memories of
 * closed incarnations): V8 keeps integers below 2^30 as small integers, so a lookup by them
 * hashes no heap number (a full 32-bit key cost a heap-number hash for three hashes in four).
 */
export const SMALL_KEY = 0x3fffffff;

/** What the table needs from an entry: the key fields, the cached hash and the chain link. */
export interface FlowTableEntry<T> extends FlowKeyFields {
  /** {@link flowHash} of the entry's tuple, set by the caller before {@link FlowTable.insert}. */
  hash: number;
  /** Next entry with the same hash; managed by the table. */
  chainNext: T | null;
}

/**
 * Hash table of live entries keyed by the symmetric 4-tuple + VLAN key: a power-of-two array of
 * chains (through `chainNext`), doubled when the entries outnumber the buckets.
 *
 * Why not a `Map`: flows come and go all the time (a SYN flood inserts and removes millions), and
 * a Map's table is rebuilt as deleted entries pile up, each rebuild a new backing store that
 * becomes garbage in the old generation: ~170 MB of it per 3 million flows. This array is
 * allocated again only when the live entries double.
 */
export class FlowTable<T extends FlowTableEntry<T>> {
  private buckets: (T | null)[] = new Array<T | null>(1024).fill(null);
  private mask = 1023;
  private count = 0;

  /** Number of entries in the table. */
  get size(): number {
    return this.count;
  }

  /** The entry for the segment's tuple (either direction), or undefined. `hash` = flowHash(seg). */
  lookup(seg: TcpSegment, hash: number): T | undefined {
    for (let e: T | null = this.buckets[hash & this.mask]!; e !== null; e = e.chainNext) {
      if (e.hash === hash && matchesEndpoints(e, seg)) return e;
    }
    return undefined;
  }

  /** Adds an entry (its tuple must not be in the table yet). */
  insert(entry: T): void {
    if (this.count >= this.buckets.length) this.grow();
    const i = entry.hash & this.mask;
    entry.chainNext = this.buckets[i]!;
    this.buckets[i] = entry;
    this.count++;
  }

  /** Removes an entry that is in the table. Returns false when it was not there. */
  remove(entry: T): boolean {
    const i = entry.hash & this.mask;
    const head = this.buckets[i]!;
    if (head === null) return false;
    if (head === entry) {
      this.buckets[i] = entry.chainNext;
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
    for (const head of this.buckets) {
      for (let e: T | null = head; e !== null; e = e.chainNext) out.push(e);
    }
    return out;
  }

  private grow(): void {
    const old = this.buckets;
    const buckets = new Array<T | null>(old.length * 2).fill(null);
    const mask = buckets.length - 1;
    for (const head of old) {
      let e: T | null = head;
      while (e !== null) {
        const next: T | null = e.chainNext;
        const i = e.hash & mask;
        e.chainNext = buckets[i]!;
        buckets[i] = e;
        e = next;
      }
    }
    this.buckets = buckets;
    this.mask = mask;
  }
}
