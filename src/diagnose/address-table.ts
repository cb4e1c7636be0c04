/**
 * A compact interning table for address texts: numbers them in order of first sight, and counts
 * per number the flows seen and the position of the first one.
 *
 * Why not a `Map<string, number>`: the diagnose pre-pass interns the client address of every
 * flow, and a busy capture can have one client address per connection (436 000 in the benchmark).
 * A Map keeps one string object and one entry per address (~110 bytes each, measured, with the
 * flow store's fresh strings), and its growth triggers garbage collections that scan whatever the
 * heap holds. This table keeps everything in typed arrays (~40 bytes per address: the text's
 * UTF-16 code units, its offset and hash, a slot and two counters) and allocates nothing per
 * address beyond amortised growth.
 */

/** FNV-1a over the UTF-16 code units of `text`, as an unsigned 32-bit number. */
function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A copy of `array` with room for `length` entries (at least double the old size). */
function grown<T extends Int32Array | Uint16Array | Uint32Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(Math.max(length, array.length * 2));
  bigger.set(array);
  return bigger;
}

const EMPTY_SLOT = -1;

/** Address texts numbered 0, 1, 2 ... in order of first {@link AddressTable.add}. */
export class AddressTable {
  /** Code units of every text, back to back. */
  private units = new Uint16Array(1024);
  private unitsUsed = 0;
  /** By number: where its text starts in `units` (entry `size` is the end of the last text). */
  private starts = new Uint32Array(65);
  private hashes = new Uint32Array(64);
  /** By number: flows counted with {@link add}, and the position given with the first one. */
  private counts = new Int32Array(64);
  private firsts = new Int32Array(64);
  /** Open addressing, linear probing: address numbers, or EMPTY_SLOT. Never fuller than half. */
  private slots = new Int32Array(128).fill(EMPTY_SLOT);
  private count = 0;

  /** Number of distinct texts. */
  get size(): number {
    return this.count;
  }

  /**
   * Counts one flow of `text` at `position` and returns the text's number, adding the text when
   * it is new (its first position is then `position`).
   */
  add(text: string, position: number): number {
    const hash = hashText(text);
    const mask = this.slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const n = this.slots[i]!;
      if (n === EMPTY_SLOT) break;
      if (this.hashes[n] === hash && this.textEquals(n, text)) {
        this.counts[n]!++;
        return n;
      }
    }
    const n = this.count++;
    if (n + 1 >= this.hashes.length) {
      this.hashes = grown(this.hashes, n + 2);
      this.counts = grown(this.counts, n + 2);
      this.firsts = grown(this.firsts, n + 2);
      this.starts = grown(this.starts, n + 3);
    }
    if (this.unitsUsed + text.length > this.units.length) this.units = grown(this.units, this.unitsUsed + text.length);
    for (let i = 0; i < text.length; i++) this.units[this.unitsUsed + i] = text.charCodeAt(i);
    this.unitsUsed += text.length;
    this.starts[n + 1] = this.unitsUsed;
    this.hashes[n] = hash;
    this.counts[n] = 1;
    this.firsts[n] = position;
    if (2 * this.count > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(n);
    return n;
  }

  /** The number of `text`, or undefined when it was never added. */
  numberOf(text: string): number | undefined {
    const hash = hashText(text);
    const mask = this.slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const n = this.slots[i]!;
      if (n === EMPTY_SLOT) return undefined;
      if (this.hashes[n] === hash && this.textEquals(n, text)) return n;
    }
  }

  /** The text of number `n` (a new string on each call). */
  text(n: number): string {
    return String.fromCharCode(...this.units.subarray(this.starts[n]!, this.starts[n + 1]!));
  }

  /** Flows counted for number `n`. */
  flowCount(n: number): number {
    return this.counts[n] ?? 0;
  }

  /** Position given with the first flow of number `n`. */
  firstPosition(n: number): number {
    return this.firsts[n] ?? -1;
  }

  private textEquals(n: number, text: string): boolean {
    const start = this.starts[n]!;
    if (this.starts[n + 1]! - start !== text.length) return false;
    for (let i = 0; i < text.length; i++) if (this.units[start + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  private place(n: number): void {
    const mask = this.slots.length - 1;
    let i = this.hashes[n]! & mask;
    while (this.slots[i] !== EMPTY_SLOT) i = (i + 1) & mask;
    this.slots[i] = n;
  }

  private rehash(capacity: number): void {
    this.slots = new Int32Array(capacity).fill(EMPTY_SLOT);
    for (let n = 0; n < this.count; n++) this.place(n);
  }
}
