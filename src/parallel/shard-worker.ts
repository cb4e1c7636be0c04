/**
 * A flow-tracking shard (worker thread entry) for `--jobs N`: receives packed segments of the
 * flows whose symmetric hash falls on it, runs one FlowTracker into its own FlowStore, and at the
 * end hands the store's buffers back (transferred, not copied).
 *
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { createTcpSegment } from '../decode/types.ts';
import { FlowStore } from '../tcp/flow-store.ts';
import { FlowTracker } from '../tcp/tracker.ts';
import { ENTRY_WORDS, entryFlood, entryHash, KIND_SEGMENT, unpackSegment } from './protocol.ts';
import type { FromShard, ToShard } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('shard-worker must run in a worker thread');

let store: FlowStore | undefined;
let tracker: FlowTracker | undefined;
const seg = createTcpSegment();

function send(message: FromShard, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

port.on('message', (message: ToShard) => {
  try {
    switch (message.type) {
      case 'init':
        store = new FlowStore(message.store);
        tracker = new FlowTracker({ ...message.flow, tsPrecisionDigits: message.store.tsPrecisionDigits }, store);
        break;
      case 'batch': {
        const t = tracker!;
        const words = message.words;
        for (let i = 0, at = 0; i < message.entries; i++, at += ENTRY_WORDS) {
          if (words[at] === KIND_SEGMENT) {
            const frame = unpackSegment(words, at, seg);
            t.add(seg, frame, words[at + 3]!, words[at + 4]!, entryHash(words, at), entryFlood(words, at));
          } else {
            t.tick(words[at + 3]!, words[at + 4]!);
          }
        }
        // The buffer goes back for the next batch: allocating one per batch (360 KB, outside the
        // heap) made both threads collect garbage for it.
        send({ type: 'ack', words }, [words.buffer as ArrayBuffer]);
        break;
      }
      case 'finish': {
        const t = tracker!;
        t.finish(message.endSec, message.endNanos);
        const { parts, transfer } = store!.exportParts();
        send({ type: 'done', parts, flowsCreated: t.flowsCreated, flowsEvicted: t.flowsEvicted, folds: t.folds.entries() }, transfer);
        break;
      }
    }
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});
