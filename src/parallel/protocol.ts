/**
 * What the reader thread and the flow-tracking shards (worker threads) exchange for `--jobs N`:
 * TCP segments packed as numbers into transferable batches, and the messages around them.
 *
 * Why numbers, not raw records: the reader thread decodes anyway (it needs the 4-tuple to pick the
 * shard, and keeps the capture facts, duplicate filter and anomaly counts in one place, in capture
 * order), so a shard receives only what the flow tracker reads of a segment, the flow hash the
 * reader already computed to pick the shard, and whether it is a SYN to a listener under a SYN
 * flood (which no shard can tell, seeing only some SYNs; see FlowTracker.add): 22 words, the
 * small fields packed together.
 *
 * @module
 */
import type { TcpSegment } from '../decode/types.ts';
import type { FlowTrackerOptions } from '../tcp/options.ts';
import type { FlowStoreOptions, FlowStoreParts } from '../tcp/flow-store.ts';
import type { SynFoldEntry } from '../tcp/syn-folds.ts';

/** Words per packed entry (a segment, or a tick). */
export const ENTRY_WORDS = 22;
/**
 * Entries per batch: ~360 KB. Measured on the bench capture with 2 shards on 2 cores: 4096 with
 * 32 batches queued took 3.8-4.3 s where 1024 with 8 took 4.7-5.4 s (fewer messages and
 * acknowledgements, and the reader blocks less); 8192 gained nothing more and cost 30 MB. The
 * queue was 32 batches deep then; 8 (see MAX_QUEUED_BATCHES in sharded-tracker.ts) takes the same
 * time with 4096 entries and 20-40 MB less memory (314-333 MB against 292-296 MB).
 */
export const BATCH_ENTRIES = 4096;

/** Entry kinds (word 0). */
export const KIND_SEGMENT = 0;
/** The capture's clock entered a new second on another shard's packet: run the timeouts (FlowTracker.tick). */
export const KIND_TICK = 1;

/** Packs one entry at `at` (a word offset). Frame numbers up to 2^53 are split in two words. */
export function packEntry(
  out: Uint32Array,
  at: number,
  kind: number,
  seg: TcpSegment,
  hash: number,
  frame: number,
  tsSec: number,
  tsNanos: number,
  flood: number,
): void {
  out[at] = kind;
  out[at + 1] = frame >>> 0;
  out[at + 2] = Math.floor(frame / 0x100000000);
  out[at + 3] = tsSec;
  out[at + 4] = tsNanos;
  if (kind !== KIND_SEGMENT) return;
  out[at + 5] = seg.src0;
  out[at + 6] = seg.src1;
  out[at + 7] = seg.src2;
  out[at + 8] = seg.src3;
  out[at + 9] = seg.dst0;
  out[at + 10] = seg.dst1;
  out[at + 11] = seg.dst2;
  out[at + 12] = seg.dst3;
  out[at + 13] = seg.srcPort | (seg.dstPort << 16);
  out[at + 14] = seg.vlanKey + 1;
  // flags (9 bits) | header length (6) | IPv6 (1) | flood (1); TTL (8) | window scale + 1 (9:
  // the option's shift is a whole byte, and a hostile capture may use all of it).
  out[at + 15] = seg.flags | (seg.headerLength << 9) | ((seg.ipVersion === 6 ? 1 : 0) << 15) | (flood << 16);
  out[at + 16] = seg.ttl | ((seg.windowScale + 1) << 8);
  out[at + 17] = seg.seq;
  out[at + 18] = seg.ack;
  out[at + 19] = seg.payloadLength;
  out[at + 20] = seg.window;
  out[at + 21] = hash;
}

/** 1 when the segment is a SYN to a listener under a flood, as the reader decided (FlowTracker.add's `flood`). */
export function entryFlood(words: Uint32Array, at: number): number {
  return (words[at + 15]! >>> 16) & 1;
}

/** The flow hash of the segment entry at `at` (flowHash's signed 32-bit value). */
export function entryHash(words: Uint32Array, at: number): number {
  return words[at + 21]! | 0;
}

/** Fills `seg` (a reused scratch segment) from the entry at `at`; returns the frame number. */
export function unpackSegment(words: Uint32Array, at: number, seg: TcpSegment): number {
  seg.src0 = words[at + 5]!;
  seg.src1 = words[at + 6]!;
  seg.src2 = words[at + 7]!;
  seg.src3 = words[at + 8]!;
  seg.dst0 = words[at + 9]!;
  seg.dst1 = words[at + 10]!;
  seg.dst2 = words[at + 11]!;
  seg.dst3 = words[at + 12]!;
  const ports = words[at + 13]!;
  seg.srcPort = ports & 0xffff;
  seg.dstPort = ports >>> 16;
  seg.vlanKey = words[at + 14]! - 1;
  const bits = words[at + 15]!;
  seg.flags = bits & 0x1ff;
  seg.headerLength = (bits >>> 9) & 0x3f;
  seg.ipVersion = ((bits >>> 15) & 1) === 1 ? 6 : 4;
  const more = words[at + 16]!;
  seg.ttl = more & 0xff;
  seg.windowScale = (more >>> 8) - 1;
  seg.seq = words[at + 17]!;
  seg.ack = words[at + 18]!;
  seg.payloadLength = words[at + 19]!;
  seg.capturedPayloadLength = 0;
  seg.window = words[at + 20]!;
  return entryFrame(words, at);
}

export function entryFrame(words: Uint32Array, at: number): number {
  return words[at + 1]! + words[at + 2]! * 0x100000000;
}

/** Reader → shard. */
export type ToShard =
  | { readonly type: 'init'; readonly flow: Partial<FlowTrackerOptions>; readonly store: FlowStoreOptions }
  | { readonly type: 'batch'; readonly words: Uint32Array; readonly entries: number }
  | { readonly type: 'finish'; readonly endSec: number; readonly endNanos: number };

/** Shard → reader. */
export type FromShard =
  /** A batch was tracked; its buffer comes back (transferred) to be filled again. */
  | { readonly type: 'ack'; readonly words: Uint32Array }
  | {
      readonly type: 'done';
      readonly parts: FlowStoreParts;
      readonly flowsCreated: number;
      readonly flowsEvicted: number;
      readonly folds: SynFoldEntry[];
    }
  | { readonly type: 'error'; readonly message: string };
