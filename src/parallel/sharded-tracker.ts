/**
 * `--jobs N`: flow tracking spread over N worker threads, with the same result as one tracker.
 *
 * The reader thread (the caller) decodes every record as before and hands TCP segments to
 * {@link ShardedTracker.add}, which packs each into the batch of the shard its symmetric flow hash
 * picks (both directions of a connection, and every incarnation of a 4-tuple, land on the same
 * shard). Full batches move to the shard as transferred buffers. Each shard runs an ordinary
 * FlowTracker into its own FlowStore; at the end the stores come back (transferred) and
 * {@link MergedFlowList} numbers their flows in order of first packet, as one tracker would.
 *
 * What keeps the result identical to `--jobs 1`:
 * - timeouts: a tracker sweeps its idle/linger lists when the capture's clock enters a new second.
 *   A shard sees only its own packets, so every shard is sent a tick at the first packet of each
 *   new second (see FlowTracker.tick), and the capture's last packet time at the end;
 * - ids: flows are numbered by first frame across shards; `previous` links and the "keep samples
 *   of the first flows" rule are applied with those numbers when a record is built;
 * - memories of closed incarnations expire by age (FlowTrackerOptions.maxRememberedClosed).
 * The live-flow cap and the memory cap are split evenly between shards, so a capture that reaches
 * one of them (a flood of over 262 144 simultaneous flows) may be cut at slightly different flows.
 *
 * Flow control: {@link ShardedTracker.whenReady} resolves once every shard has at most a few
 * batches queued; the caller awaits it between input chunks, so memory stays bounded when the
 * shards are slower than the reader.
 *
 * @module
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from './start-worker.ts';
import type { TcpSegment } from '../decode/types.ts';
import { flowHash } from '../flow/flow-key.ts';
import { FlowStore } from '../tcp/flow-store.ts';
import { DEFAULT_FLOW_TRACKER_OPTIONS } from '../tcp/options.ts';
import { packetSeconds } from '../tcp/packet-seconds.ts';
import type { FlowTrackerOptions } from '../tcp/options.ts';
import type { FlowStoreOptions } from '../tcp/flow-store.ts';
import { SynBalance, SynFolds } from '../tcp/syn-folds.ts';
import type { FlowList, FlowRecord, FlowSummary } from '../tcp/types.ts';
import { BATCH_ENTRIES, ENTRY_WORDS, KIND_SEGMENT, KIND_TICK, packEntry } from './protocol.ts';
import type { FromShard, ToShard } from './protocol.ts';

/**
 * Young-generation size of a shard's heap. A shard's garbage is short-lived (the flow state is
 * pooled, records are encoded into the store's pages), so a smaller nursery than V8's default
 * costs little time and keeps each thread's resident memory down. Measured on the benchmark
 * capture with 2 shards (and 8 queued batches): 16 MB peaked at 294-296 MB, 8 MB at 275-278 MB,
 * 4 MB at 268 MB, with no difference in time above the machine's noise.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/**
 * Batches a shard may have queued before the reader waits (8 × ~360 KB: see BATCH_ENTRIES).
 * Measured on the benchmark capture with 2 shards: 32 queued peaked at 314-333 MB, 12 at 296 MB,
 * 8 at 292-294 MB, 4 at 291 MB, the time the same within the machine's noise (the reader is
 * ahead of the shards either way; a deeper queue only holds more of the capture in flight).
 */
const MAX_QUEUED_BATCHES = 8;

interface Shard {
  readonly worker: Worker;
  words: Uint32Array;
  entries: number;
  queued: number;
  /** Batch buffers the shard gave back, to be filled again. */
  readonly spare: Uint32Array[];
  done: Extract<FromShard, { type: 'done' }> | undefined;
}

/** Flow tracking over `jobs` worker threads; see the module comment. */
export class ShardedTracker {
  private readonly shards: Shard[] = [];
  private readonly storeOptions: FlowStoreOptions;
  private sweepSec = -Infinity;
  private lastSec = 0;
  private lastNanos = 0;
  /** SYNs outstanding per listener over the whole capture (see FlowTracker.add's `flood`). */
  private readonly balance: SynBalance;
  /** The shards' folded unanswered SYNs, merged by {@link finish}. */
  readonly folds = new SynFolds();
  private lastT = Number.NEGATIVE_INFINITY;
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;
  private finishing: ((value: void) => void) | undefined;

  /** @param sharedMemory - the shards' stores in shared memory (see FlowStoreOptions.sharedMemory). */
  constructor(jobs: number, flow: Partial<FlowTrackerOptions>, tsPrecisionDigits: number, sharedMemory = false) {
    const keep = flow.keepRoutineSamplesOfFirstFlows ?? DEFAULT_FLOW_TRACKER_OPTIONS.keepRoutineSamplesOfFirstFlows;
    this.storeOptions = { tsPrecisionDigits, keepRoutineSamplesOfFirstFlows: keep, sharedMemory };
    const perShard: Partial<FlowTrackerOptions> = {
      ...flow,
      maxLiveFlows: Math.ceil((flow.maxLiveFlows ?? DEFAULT_FLOW_TRACKER_OPTIONS.maxLiveFlows) / jobs),
      maxRememberedClosed: Math.ceil((flow.maxRememberedClosed ?? DEFAULT_FLOW_TRACKER_OPTIONS.maxRememberedClosed) / jobs),
      maxLiveFloodFlows: Math.ceil((flow.maxLiveFloodFlows ?? DEFAULT_FLOW_TRACKER_OPTIONS.maxLiveFloodFlows) / jobs),
    };
    this.balance = new SynBalance(flow.synFloodOutstanding ?? DEFAULT_FLOW_TRACKER_OPTIONS.synFloodOutstanding);
    // Functions cannot cross threads; onWeird is a per-packet hook of the single tracker only.
    delete (perShard as { onWeird?: unknown }).onWeird;
    for (let i = 0; i < jobs; i++) {
      const worker = startWorker('shard-worker', WORKER_YOUNG_GENERATION_MB);
      const shard: Shard = { worker, words: new Uint32Array(BATCH_ENTRIES * ENTRY_WORDS), entries: 0, queued: 0, done: undefined, spare: [] };
      worker.on('message', (m: FromShard) => this.onMessage(shard, m));
      worker.on('error', (e: Error) => this.fail(e));
      worker.on('exit', (code) => {
        if (shard.done === undefined && code !== 0) this.fail(new Error(`flow shard ${i} exited with code ${code}`));
      });
      const init: ToShard = { type: 'init', flow: perShard, store: this.storeOptions };
      worker.postMessage(init);
      this.shards.push(shard);
    }
  }

  /** Adds one TCP segment, in capture order (same contract as FlowTracker.add). */
  add(seg: TcpSegment, frameNumber: number, tsSec: number, tsNanos: number): void {
    const t = packetSeconds(tsSec, tsNanos);
    if (t >= this.lastT) {
      this.lastT = t;
      this.lastSec = tsSec;
      this.lastNanos = tsNanos;
    }
    const hash = flowHash(seg);
    const target = (hash >>> 0) % this.shards.length;
    // Whether this is a SYN to a listener under a flood: no shard sees every SYN (see FlowTracker.add).
    const flood = this.balance.note(seg) ? 1 : 0;
    if (tsSec > this.sweepSec) {
      // The one tracker would sweep here: every other shard sweeps at this same instant.
      this.sweepSec = tsSec;
      for (let i = 0; i < this.shards.length; i++) {
        if (i !== target) this.push(this.shards[i]!, KIND_TICK, seg, hash, frameNumber, tsSec, tsNanos, 0);
      }
    }
    this.push(this.shards[target]!, KIND_SEGMENT, seg, hash, frameNumber, tsSec, tsNanos, flood);
  }

  /** Resolves when every shard has room for more batches (undefined: room now). Rejects on a shard failure. */
  whenReady(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.shards.some((s) => s.queued > MAX_QUEUED_BATCHES)) return undefined;
    return new Promise<void>((resolve) => {
      this.waiting = resolve;
    });
  }

  /** End of capture: flushes, finishes every shard, and returns the flows of all, in id order. */
  async finish(): Promise<FlowList> {
    for (const s of this.shards) this.flush(s);
    const finished = new Promise<void>((resolve) => {
      this.finishing = resolve;
    });
    for (const s of this.shards) {
      const message: ToShard = { type: 'finish', endSec: this.lastSec, endNanos: this.lastNanos };
      s.worker.postMessage(message);
    }
    // Resolved when every shard is done, or at once by a failure (see fail).
    if (this.failure === undefined) await finished;
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
    if (this.failure !== undefined) throw this.failure;
    for (const s of this.shards) for (const e of s.done!.folds) this.folds.addEntry(e);
    return new MergedFlowList(this.shards.map((s) => FlowStore.fromParts(this.storeOptions, s.done!.parts)));
  }

  /** Stops the shards without a result (the caller failed). */
  async abort(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
  }

  private fail(e: Error): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    // Wake whatever waits (flow control, finish): each checks `failure` when it resumes.
    this.finishing?.();
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private onMessage(shard: Shard, m: FromShard): void {
    switch (m.type) {
      case 'ack': {
        shard.queued--;
        shard.spare.push(m.words);
        if (this.waiting !== undefined && !this.shards.some((s) => s.queued > MAX_QUEUED_BATCHES)) {
          const w = this.waiting;
          this.waiting = undefined;
          w();
        }
        break;
      }
      case 'done':
        shard.done = m;
        if (this.shards.every((s) => s.done !== undefined)) this.finishing?.();
        break;
      case 'error':
        this.fail(new Error(`flow shard failed: ${m.message}`));
        break;
    }
  }

  private push(shard: Shard, kind: number, seg: TcpSegment, hash: number, frame: number, tsSec: number, tsNanos: number, flood: number): void {
    packEntry(shard.words, shard.entries * ENTRY_WORDS, kind, seg, hash, frame, tsSec, tsNanos, flood);
    if (++shard.entries === BATCH_ENTRIES) this.flush(shard);
  }

  private flush(shard: Shard): void {
    if (shard.entries === 0) return;
    const message: ToShard = { type: 'batch', words: shard.words, entries: shard.entries };
    shard.worker.postMessage(message, [shard.words.buffer as ArrayBuffer]);
    shard.queued++;
    shard.words = shard.spare.pop() ?? new Uint32Array(BATCH_ENTRIES * ENTRY_WORDS);
    shard.entries = 0;
  }
}

/**
 * The flows of several shards' stores as one {@link FlowList}, numbered 1..N in order of first
 * frame (as one tracker numbers them). Records are built by the owning store with their ids, and
 * their `previous` ids, mapped to that numbering.
 */
export class MergedFlowList implements FlowList {
  private readonly stores: FlowStore[];
  /** Per merged position: the shard and its slot. */
  private readonly shardOf: Uint8Array;
  private readonly slotOf: Uint32Array;
  /** Per shard: merged id (1-based) of each of its flow ids (index = stored id - 1). */
  private readonly idMaps: Uint32Array[];
  private readonly idOf: ((storedId: number) => number)[];

  /**
   * @param stores - the shards' stores, or one store whose ids are not in first-packet order (a
   *   kept flood flow gets its id late, see synFloodOutstanding); empty slots are skipped.
   */
  constructor(stores: readonly FlowStore[]) {
    this.stores = [...stores];
    let total = 0;
    for (const s of this.stores) total += s.size;
    this.shardOf = new Uint8Array(total);
    this.slotOf = new Uint32Array(total);
    this.idMaps = this.stores.map((s) => new Uint32Array(s.length));
    // By first frame: a k-way merge when each store is in its own first-frame order (the usual
    // case), else one sort of every (store, slot) (a kept flood flow got its id late).
    if (this.stores.every((s) => s.inFirstFrameOrder())) {
      const next = new Array<number>(this.stores.length).fill(0);
      for (let pos = 0; pos < total; pos++) {
        let best = -1;
        let bestFrame = Infinity;
        for (let k = 0; k < this.stores.length; k++) {
          const store = this.stores[k]!;
          while (next[k]! < store.length && !store.filledAt(next[k]!)) next[k]!++;
          const slot = next[k]!;
          if (slot >= store.length) continue;
          const frame = store.firstFrameAt(slot);
          if (frame < bestFrame) {
            bestFrame = frame;
            best = k;
          }
        }
        const slot = next[best]!;
        next[best] = slot + 1;
        this.place(pos, best, slot);
      }
    } else {
      const entries: { k: number; slot: number; frame: number }[] = [];
      this.stores.forEach((store, k) => {
        for (let slot = 0; slot < store.length; slot++) if (store.filledAt(slot)) entries.push({ k, slot, frame: store.firstFrameAt(slot) });
      });
      entries.sort((a, b) => a.frame - b.frame);
      entries.forEach((e, pos) => this.place(pos, e.k, e.slot));
    }
    this.idOf = this.idMaps.map((map) => (storedId: number) => map[storedId - 1] ?? 0);
  }

  /** Puts `slot` of store `k` at merged position `pos` (merged id pos + 1). */
  private place(pos: number, k: number, slot: number): void {
    this.shardOf[pos] = k;
    this.slotOf[pos] = slot;
    this.idMaps[k]![slot] = pos + 1;
  }

  get length(): number {
    return this.shardOf.length;
  }

  /** The stores merged (see flow-list-parts.ts: another thread merges them again, the same way). */
  storeList(): readonly FlowStore[] {
    return this.stores;
  }

  at(index: number): FlowRecord | undefined {
    if (!(index >= 0 && index < this.shardOf.length)) return undefined;
    const k = this.shardOf[index]!;
    return this.stores[k]!.atWithIds(this.slotOf[index]!, this.idOf[k]);
  }

  *[Symbol.iterator](): IterableIterator<FlowRecord> {
    for (let i = 0; i < this.shardOf.length; i++) yield this.at(i)!;
  }

  /** FlowList fast path: each shard's summaries in merged order, ids remapped (see FlowStore.summaryAt). */
  scan(visit: (flow: FlowSummary, position: number) => void): void {
    for (let i = 0; i < this.shardOf.length; i++) {
      const k = this.shardOf[i]!;
      visit(this.stores[k]!.summaryAt(this.slotOf[i]!, this.idOf[k])!, i);
    }
  }

  /** The summary at merged `position`, ids remapped (FlowList.summaryAt; see FlowStore.summaryAt). */
  summaryAt(position: number): FlowSummary | undefined {
    if (!(position >= 0 && position < this.shardOf.length)) return undefined;
    const k = this.shardOf[position]!;
    return this.stores[k]!.summaryAt(this.slotOf[position]!, this.idOf[k]);
  }

  /** `JSON.stringify` gives the array of records (small results; large ones are streamed). */
  toJSON(): FlowRecord[] {
    return [...this];
  }

  /** Bytes of encoded records over all shards. */
  get encodedBytes(): number {
    let n = 0;
    for (const s of this.stores) n += s.encodedBytes;
    return n;
  }
}
