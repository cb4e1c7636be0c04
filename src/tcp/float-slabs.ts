/**
 * Number arrays for live flows (packed transitions, segment samples), carved out of large shared
 * buffers and recycled by length.
 *
 * Why: every `new Float64Array(n)` of more than 64 bytes allocates an ArrayBuffer outside the V8
 * heap, which is slow on its own and counts as external memory, and V8 answers a high rate of
 * external allocation with garbage collections. A capture whose live flows keep growing (many
 * concurrent connections, each growing its sample array 2 → 4 → 8 → 16 entries) spent a quarter
 * of the tracker's time growing arrays and another seventh in the collector. A view on a slab is
 * an ordinary small heap object, and an array given back is handed out again for the same length.
 *
 * Contract: an array from {@link take} may hold numbers from an earlier flow; callers read only
 * what they wrote (the flow state keeps lengths for that). Give an array back at most once, and
 * do not use it afterwards.
 *
 * @module
 */

/** Doubles per slab (1 MiB). */
const SLAB_DOUBLES = 1 << 17;
/** Longer arrays get a buffer of their own (still recycled by length). */
const MAX_SLAB_ARRAY = SLAB_DOUBLES >> 4;

export class Float64Slabs {
  private slab = new ArrayBuffer(0);
  /** Doubles of `slab` handed out. */
  private used = 0;
  /** Arrays given back, by length. The lengths a tracker asks for are a handful of fixed sizes. */
  private readonly free = new Map<number, Float64Array[]>();

  /** An array of `length` doubles (contents unspecified). */
  take(length: number): Float64Array {
    const list = this.free.get(length);
    if (list !== undefined && list.length > 0) return list.pop()!;
    if (length > MAX_SLAB_ARRAY) return new Float64Array(length);
    if (this.used + length > this.slab.byteLength / 8) {
      this.slab = new ArrayBuffer(SLAB_DOUBLES * 8);
      this.used = 0;
    }
    const array = new Float64Array(this.slab, this.used * 8, length);
    this.used += length;
    return array;
  }

  /** Takes an array back for reuse. */
  give(array: Float64Array): void {
    let list = this.free.get(array.length);
    if (list === undefined) {
      list = [];
      this.free.set(array.length, list);
    }
    list.push(array);
  }

  /** Twice the capacity of `array`, its first `used` numbers copied; `array` is given back. */
  grow(array: Float64Array, used: number): Float64Array {
    return this.resize(array, used, array.length * 2);
  }

  /** An array of `length` numbers with the first `used` of `array` (used <= length); `array` is given back. */
  resize(array: Float64Array, used: number, length: number): Float64Array {
    const next = this.take(length);
    // A loop, not set(subarray(...)): the arrays are short, and subarray builds a view each time.
    for (let i = 0; i < used; i++) next[i] = array[i]!;
    this.give(array);
    return next;
  }

  /** Forgets every slab and free array (the caller holds none any more). */
  clear(): void {
    this.slab = new ArrayBuffer(0);
    this.used = 0;
    this.free.clear();
  }
}
