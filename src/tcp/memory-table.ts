/**
 * The flow tracker's memories of closed incarnations (what fills a new incarnation's `previous`):
 * a ring of rows in typed arrays, oldest first ({@link MemoryRing}), and a hash table from the
 * low 30 bits of a tuple hash to the newest memory with that key ({@link MemoryTable}).
 *
 * Why typed arrays: a busy capture keeps about a minute of closed connections (some 120,000 on
 * the benchmark capture); as objects they took ~240 bytes each (an object plus boxed numbers for
 * the addresses, hash and time) and were a fifth of the heap; as rows they take 68 bytes.
 *
 * @module
 */

import { SMALL_KEY } from '../flow/flow-table.ts';
import type { FlowKeyFields } from '../flow/flow-key.ts';
import { STATE_BY_CODE, stateCode } from './flow-state.ts';
import type { TcpState } from './types.ts';

/** A memory read back from the ring (see {@link MemoryRing.read}). */
export interface ClosedIncarnation extends FlowKeyFields {
  flowId: number;
  incarnation: number;
  hash: number;
  lastT: number;
  finalClient: TcpState;
  finalServer: TcpState;
}

/** What the ring stores of a closed flow (a FlowState has all of it). */
export interface ClosedFlowFields extends FlowKeyFields {
  readonly id: number;
  readonly incarnation: number;
  readonly hash: number;
  readonly lastT: number;
  readonly client: { readonly state: TcpState };
  readonly server: { readonly state: TcpState };
}

/** Uint32 words per memory: addresses, ports, flow id, incarnation, hash, final states. */
const WORDS = 14;
const W_C0 = 0;
const W_C_PORT = 4;
const W_S0 = 5;
const W_S_PORT = 9;
const W_FLOW_ID = 10;
const W_INCARNATION = 11;
const W_HASH = 12;
/** Final state codes: client in the low 4 bits, server in the next 4. */
const W_STATES = 13;

/**
 * Memories in order of closing, addressed by a sequence number (the n-th memory ever pushed),
 * in a power-of-two ring of rows that doubles when full. The caller decides when the oldest
 * leaves ({@link shift}); see FlowTracker.retire.
 */
export class MemoryRing {
  private capacity = 1024;
  private words = new Uint32Array(this.capacity * WORDS);
  private vlans = new Int32Array(this.capacity);
  private lastTs = new Float64Array(this.capacity);
  /** Sequence number of the oldest memory; `count` memories follow it. */
  headSeq = 0;
  count = 0;

  private slot(seq: number): number {
    return seq % this.capacity;
  }

  /** Packet time (epoch seconds) of the last packet of the memory's flow. */
  lastTOf(seq: number): number {
    return this.lastTs[this.slot(seq)]!;
  }

  /** The key the memory has in a {@link MemoryTable}. */
  keyOf(seq: number): number {
    return this.words[this.slot(seq) * WORDS + W_HASH]! & SMALL_KEY;
  }

  /** Forgets the oldest memory. */
  shift(): void {
    this.headSeq++;
    this.count--;
  }

  /** Remembers a closed flow; returns its sequence number. */
  push(f: ClosedFlowFields): number {
    if (this.count === this.capacity) this.grow();
    const seq = this.headSeq + this.count;
    this.count++;
    const s = this.slot(seq);
    const w = this.words;
    const o = s * WORDS;
    w[o + W_C0] = f.c0;
    w[o + W_C0 + 1] = f.c1;
    w[o + W_C0 + 2] = f.c2;
    w[o + W_C0 + 3] = f.c3;
    w[o + W_C_PORT] = f.cPort;
    w[o + W_S0] = f.s0;
    w[o + W_S0 + 1] = f.s1;
    w[o + W_S0 + 2] = f.s2;
    w[o + W_S0 + 3] = f.s3;
    w[o + W_S_PORT] = f.sPort;
    w[o + W_FLOW_ID] = f.id;
    w[o + W_INCARNATION] = f.incarnation;
    w[o + W_HASH] = f.hash;
    w[o + W_STATES] = stateCode(f.client.state) | (stateCode(f.server.state) << 4);
    this.vlans[s] = f.vlan;
    this.lastTs[s] = f.lastT;
    return seq;
  }

  /** Fills `out` with the memory `seq` (one object reused by the caller: lookups that hit are rare). */
  read(seq: number, out: ClosedIncarnation): ClosedIncarnation {
    const s = this.slot(seq);
    const w = this.words;
    const o = s * WORDS;
    out.c0 = w[o + W_C0]!;
    out.c1 = w[o + W_C0 + 1]!;
    out.c2 = w[o + W_C0 + 2]!;
    out.c3 = w[o + W_C0 + 3]!;
    out.cPort = w[o + W_C_PORT]!;
    out.s0 = w[o + W_S0]!;
    out.s1 = w[o + W_S0 + 1]!;
    out.s2 = w[o + W_S0 + 2]!;
    out.s3 = w[o + W_S0 + 3]!;
    out.sPort = w[o + W_S_PORT]!;
    out.flowId = w[o + W_FLOW_ID]!;
    out.incarnation = w[o + W_INCARNATION]!;
    out.hash = w[o + W_HASH]!;
    out.finalClient = STATE_BY_CODE[w[o + W_STATES]! & 15]!;
    out.finalServer = STATE_BY_CODE[w[o + W_STATES]! >>> 4]!;
    out.vlan = this.vlans[s]!;
    out.lastT = this.lastTs[s]!;
    return out;
  }

  /** Forgets everything and gives the arrays back (end of capture). */
  clear(): void {
    this.capacity = 1024;
    this.words = new Uint32Array(this.capacity * WORDS);
    this.vlans = new Int32Array(this.capacity);
    this.lastTs = new Float64Array(this.capacity);
    this.headSeq = 0;
    this.count = 0;
  }

  private grow(): void {
    const oldCapacity = this.capacity;
    const oldWords = this.words;
    const oldVlans = this.vlans;
    const oldLastTs = this.lastTs;
    this.capacity = oldCapacity * 2;
    this.words = new Uint32Array(this.capacity * WORDS);
    this.vlans = new Int32Array(this.capacity);
    this.lastTs = new Float64Array(this.capacity);
    for (let seq = this.headSeq; seq < this.headSeq + this.count; seq++) {
      const from = seq % oldCapacity;
      const to = seq % this.capacity;
      this.words.set(oldWords.subarray(from * WORDS, from * WORDS + WORDS), to * WORDS);
      this.vlans[to] = oldVlans[from]!;
      this.lastTs[to] = oldLastTs[from]!;
    }
  }
}

/**
 * The newest memory by the low 30 bits of its tuple hash: a colliding tuple replaces the memory
 * (a lost `previous` link, never a wrong one, since lookups compare every field). Open
 * addressing with linear probing over an Int32Array of keys, so that the lookup every new flow
 * makes (almost always a miss) reads one small array: a `Map` of memory objects cost a tenth of
 * the tracker's time in cache misses. Removal shifts the following run back (no tombstones), so
 * probes stay short.
 */
export class MemoryTable {
  /** Key + 1 per slot (0: empty); keys are below 2^30. */
  private keys = new Int32Array(1024);
  /** The memory's sequence number in its {@link MemoryRing}, per slot. */
  private seqs = new Float64Array(1024);
  private mask = 1023;
  private count = 0;

  /** The sequence number of the memory with this key, or -1. */
  get(key: number): number {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = key & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === 0) return -1;
      if (k === key + 1) return this.seqs[i]!;
    }
  }

  /** Maps `key` to memory `seq`, replacing the memory it had if any. */
  set(key: number, seq: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    let i = key & mask;
    for (; keys[i] !== 0; i = (i + 1) & mask) {
      if (keys[i] === key + 1) {
        this.seqs[i] = seq;
        return;
      }
    }
    keys[i] = key + 1;
    this.seqs[i] = seq;
    this.count++;
  }

  /** Removes `key` if it still maps to memory `seq` (it does not once a later memory replaced it). */
  remove(key: number, seq: number): void {
    const keys = this.keys;
    const seqs = this.seqs;
    const mask = this.mask;
    let i = key & mask;
    for (; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === 0) return;
      if (k === key + 1) break;
    }
    if (seqs[i] !== seq) return;
    // Backward-shift deletion: move up every later entry of the run that may sit at the hole.
    let hole = i;
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = (keys[j]! - 1) & mask;
      // The entry at j stays when its home lies in (hole, j], cyclically.
      if (hole <= j ? home > hole && home <= j : home > hole || home <= j) continue;
      keys[hole] = keys[j]!;
      seqs[hole] = seqs[j]!;
      hole = j;
    }
    keys[hole] = 0;
    seqs[hole] = 0;
    this.count--;
  }

  clear(): void {
    this.keys = new Int32Array(1024);
    this.seqs = new Float64Array(1024);
    this.mask = 1023;
    this.count = 0;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldSeqs = this.seqs;
    this.keys = new Int32Array(oldKeys.length * 2);
    this.seqs = new Float64Array(oldKeys.length * 2);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== 0) this.set(oldKeys[i]! - 1, oldSeqs[i]!);
  }
}
