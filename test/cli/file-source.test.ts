/**
 * The CLI's file reader refills two buffers in turn (see src/cli/file-source.ts): a chunk is
 * valid only until the next is requested. Whatever keeps a chunk longer would read bytes of a
 * later one. These tests read captures through it in chunk sizes that put record, block and gzip
 * boundaries everywhere, and compare every record's bytes with a read of the file as one chunk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCapture, PcapngWriter } from '../../src/capture/index.ts';
import { readFileChunks } from '../../src/cli/file-source.ts';
import { CAPTURES_DIR } from '../support/analyze-file.ts';

/** A digest of every record (numbers and bytes) and the summary's counts. */
async function digest(source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  const summary = await readCapture(source, {
    record(rec) {
      hash.update(`${rec.frameNumber} ${rec.interfaceId} ${rec.tsSec} ${rec.tsNanos} ${rec.capturedLength} ${rec.originalLength}|`);
      hash.update(rec.data);
    },
  });
  hash.update(JSON.stringify({ records: summary.records, warnings: summary.warnings, compressed: summary.compressed }));
  return hash.digest('hex');
}

async function* whole(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

const dir = mkdtempSync(join(tmpdir(), 'tcpmortem-file-source-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function pcapngSample(): Uint8Array {
  const w = new PcapngWriter({ comment: 'two buffers' });
  const a = w.addInterface({ snapLength: 2000, tsResolution: { base: 10, exponent: 9 } });
  for (let i = 0; i < 300; i++) {
    const data = new Uint8Array(14 + ((i * 53) % 1400)).map((_, j) => (i * 31 + j) & 255);
    w.writeEnhancedPacket(a, { tsSec: 1_700_000_000 + i, tsNanos: i * 1009, data });
  }
  return w.toBytes();
}

const pcap = readFileSync(join(CAPTURES_DIR, 'close-wait-leak.pcap'));
const files: [string, Uint8Array][] = [
  ['pcap', pcap],
  ['pcapng', pcapngSample()],
  // gzip: zlib queues what it is written and inflates later, so readCapture must hand it copies.
  ['pcap.gz', gzipSync(pcap)],
];

for (const [name, bytes] of files) {
  test(`${name}: read through two reused buffers, in any chunk size, gives the records of a whole read`, async () => {
    const path = join(dir, `sample.${name}`);
    writeFileSync(path, bytes);
    const expected = await digest(whole(bytes));
    for (const chunkBytes of [1, 2, 7, 100, 4096, 1 << 20]) {
      assert.equal(await digest(readFileChunks(path, chunkBytes)), expected, `chunks of ${chunkBytes} bytes`);
    }
  });
}

test('the chunks are the file, in order, and a reader that stops early can return', async () => {
  const path = join(dir, 'stop.pcap');
  writeFileSync(path, pcap);
  const parts: Uint8Array[] = [];
  for await (const chunk of readFileChunks(path, 1000)) parts.push(new Uint8Array(chunk));
  assert.deepEqual(Buffer.concat(parts), pcap);
  const early = readFileChunks(path, 1000);
  assert.equal((await early.next()).value?.length, 1000);
  assert.deepEqual(await early.return(undefined), { done: true, value: undefined });
});

test('a file that cannot be opened rejects on the first read with its error code', async () => {
  await assert.rejects(readFileChunks(join(dir, 'missing.pcap')).next(), { code: 'ENOENT' });
});
