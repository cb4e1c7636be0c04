/**
 * The flow tracker alone, on the segments of a real capture: decodes the first N TCP segments of
 * CAPTURE once into a packed array, then replays them into a fresh FlowTracker + FlowStore RUNS
 * times and prints the time per segment. Reading and decoding are out of the timing, so this
 * isolates what `analyze` spends per packet in flows and states.
 *
 *   node --import tsx bench/tracker-replay.ts CAPTURE [N=1000000] [RUNS=3]
 *
 * To see what concurrency costs (memory latency on top of the work: ~0.35 µs a segment with 8 open,
 * ~0.6 µs with 256, 1.5-2.4 µs with 4,096 on the benchmark machine, 2026-11-24), replay
 * captures that differ only in how many conversations are open at a time:
 *
 *   node --import tsx bench/make-capture.ts /tmp/c8.pcap 1000000 8
 *   node --import tsx bench/make-capture.ts /tmp/c4096.pcap 1000000 4096
 *   node --import tsx bench/tracker-replay.ts /tmp/c8.pcap
 *
 * Timed results go to the README's benchmark section and closing notes, never into tests.
 */
import { createReadStream } from 'node:fs';
import { readCapture } from '../src/capture/index.ts';
import type { CaptureRecord } from '../src/capture/types.ts';
import { decodeFrame } from '../src/decode/index.ts';
import { createTcpSegment, DecodeStatus } from '../src/decode/types.ts';
import { FlowStore, FlowTracker } from '../src/tcp/index.ts';

const [file, nText, runsText] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: tracker-replay.ts CAPTURE [N] [RUNS]');
const limit = Number(nText ?? 1_000_000);
const runs = Number(runsText ?? 3);

/** Numbers kept per segment: frame, time, and every TcpSegment field the tracker reads. */
const F = 24;
const packed = new Float64Array(limit * F);
const seg = createTcpSegment();
let n = 0;
let precisionDigits = 6;
await readCapture(createReadStream(file, { highWaterMark: 1 << 20 }), {
  interface(iface) {
    precisionDigits = Math.max(precisionDigits, iface.tsPrecisionDigits);
  },
  record(rec: CaptureRecord) {
    if (n >= limit) return;
    if (decodeFrame(rec.linkType, rec.bytes, rec.offset, rec.offset + rec.capturedLength, seg, rec.originalLength) !== DecodeStatus.TCP) return;
    const o = n * F;
    packed.set(
      [rec.frameNumber, rec.tsSec, rec.tsNanos, seg.ipVersion, seg.src0, seg.src1, seg.src2, seg.src3,
        seg.dst0, seg.dst1, seg.dst2, seg.dst3, seg.srcPort, seg.dstPort, seg.seq, seg.ack,
        seg.flags, seg.window, seg.headerLength, seg.payloadLength, seg.ttl, seg.windowScale, seg.vlanKey, seg.mss],
      o,
    );
    n++;
  },
});

for (let r = 0; r < runs; r++) {
  const store = new FlowStore({ tsPrecisionDigits: precisionDigits, keepRoutineSamplesOfFirstFlows: 64 });
  const tracker = new FlowTracker({ tsPrecisionDigits: precisionDigits }, store);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const o = i * F;
    seg.ipVersion = packed[o + 3]!;
    seg.src0 = packed[o + 4]!; seg.src1 = packed[o + 5]!; seg.src2 = packed[o + 6]!; seg.src3 = packed[o + 7]!;
    seg.dst0 = packed[o + 8]!; seg.dst1 = packed[o + 9]!; seg.dst2 = packed[o + 10]!; seg.dst3 = packed[o + 11]!;
    seg.srcPort = packed[o + 12]!; seg.dstPort = packed[o + 13]!; seg.seq = packed[o + 14]!; seg.ack = packed[o + 15]!;
    seg.flags = packed[o + 16]!; seg.window = packed[o + 17]!; seg.headerLength = packed[o + 18]!;
    seg.payloadLength = packed[o + 19]!; seg.ttl = packed[o + 20]!; seg.windowScale = packed[o + 21]!;
    seg.vlanKey = packed[o + 22]!; seg.mss = packed[o + 23]!;
    tracker.add(seg, packed[o]!, packed[o + 1]!, packed[o + 2]!);
  }
  tracker.finish();
  const ms = performance.now() - t0;
  console.log(`run ${r + 1}: ${n} segments, ${store.size} flows, ${(ms / 1000).toFixed(3)} s, ${((ms * 1e6) / n).toFixed(0)} ns per segment`);
}
