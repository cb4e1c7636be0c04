/**
 * The async driver: any async iterable of chunks, gzip detected from content and decompressed as
 * a stream, truncated or corrupt gzip reported as a warning with everything before it kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { CaptureFormatError, PcapWriter, readCapture, type CaptureRecord } from '../../src/capture/index.ts';
import { chunk, hex, packetBytes, readBytes } from './helpers.ts';

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (const piece of chunk(bytes, size)) yield piece;
}

function capture(count: number): Uint8Array {
  const w = new PcapWriter({ nanosecond: true });
  for (let i = 0; i < count; i++) w.writePacket({ tsSec: 1_000 + i, tsNanos: i, data: packetBytes(100 + (i % 50), i) });
  return w.toBytes();
}

async function read(source: AsyncIterable<Uint8Array>) {
  const seen: string[] = [];
  const summary = await readCapture(source, {
    record(r: CaptureRecord) {
      seen.push(`${r.frameNumber} ${r.tsSec}.${r.tsNanos} ${r.byteOffset} ${hex(r.data)}`);
    },
  });
  return { seen, summary };
}

test('plain capture through readCapture equals the push parser, for 1-byte and large chunks', async () => {
  const bytes = capture(500);
  const direct = readBytes(bytes);
  for (const size of [1, 7, 65536]) {
    const { seen, summary } = await read(chunks(bytes, size));
    assert.equal(seen.length, 500);
    assert.equal(summary.compressed, false);
    assert.deepEqual(summary, direct.summary);
  }
});

test('gzip is detected from the magic and decompressed transparently (offsets are in the decompressed stream)', async () => {
  const bytes = capture(2000);
  const plain = await read(chunks(bytes, 65536));
  const gz = gzipSync(bytes);
  for (const size of [1, 7, 1 << 16]) {
    const { seen, summary } = await read(chunks(gz, size));
    assert.deepEqual(seen, plain.seen, `chunk size ${size}`);
    assert.equal(summary.compressed, true);
    assert.equal(summary.stoppedEarly, false);
    assert.equal(summary.bytesRead, bytes.length);
  }
});

test('a truncated gzip stream keeps every record before the cut and warns', async () => {
  const bytes = capture(2000);
  const plain = await read(chunks(bytes, 65536));
  const gz = gzipSync(bytes);
  const cut = gz.subarray(0, Math.floor(gz.length / 2));
  const { seen, summary } = await read(chunks(cut, 4096));
  // Exactly the records whole in what zlib can inflate from the cut stream.
  const inflatable = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH });
  const expected = readBytes(inflatable).records.length;
  assert.ok(expected > 100 && expected < 2000);
  assert.equal(seen.length, expected);
  assert.deepEqual(seen, plain.seen.slice(0, seen.length));
  assert.equal(summary.stoppedEarly, true);
  assert.equal(summary.compressed, true);
  assert.equal(summary.warnings[0]?.code, 'truncated_gzip');
});

test('corrupt gzip data is a warning, not a crash', async () => {
  const gz = gzipSync(capture(3000));
  gz.fill(0x55, gz.length >> 1, (gz.length >> 1) + 64);
  const { summary } = await read(chunks(gz, 1000));
  // Damaged deflate data may inflate to garbage before zlib notices; either way reading stops
  // with a warning and a summary.
  assert.equal(summary.stoppedEarly, true);
  assert.ok(summary.warnings.length > 0);
});

test('a bad gzip checksum is reported as bad_gzip_data after the records before it', async () => {
  const bytes = capture(300);
  const plain = await read(chunks(bytes, 65536));
  const gz = gzipSync(bytes);
  gz[gz.length - 8] = (gz[gz.length - 8] ?? 0) ^ 0xff; // CRC-32 of the gzip trailer
  const { seen, summary } = await read(chunks(gz, 1000));
  // Known limit: zlib drops the output of the inflate pass that fails (at most one 16 KiB chunk).
  assert.ok(seen.length >= 300 - Math.ceil(16384 / 100), `${seen.length} records`);
  assert.deepEqual(seen, plain.seen.slice(0, seen.length));
  assert.equal(summary.stoppedEarly, true);
  assert.deepEqual(summary.warnings.map((w) => w.code).slice(0, 1), ['bad_gzip_data']);
});

test('tier-a errors come through readCapture as CaptureFormatError, also inside gzip', async () => {
  await assert.rejects(read(chunks(new Uint8Array(0), 1)), (e: unknown) => e instanceof CaptureFormatError && e.byteOffset === 0);
  await assert.rejects(read(chunks(gzipSync(new TextEncoder().encode('hello world, no capture')), 3)), CaptureFormatError);
});

test('a source left part-way (bad header, a visitor that throws) is returned, so a file closes at once', async () => {
  const good = capture(50);
  const cases: [string, Uint8Array, (r: CaptureRecord) => void][] = [
    ['unknown magic', new Uint8Array([0xde, 0xad, 0xbe, 0xef, ...new Uint8Array(60)]), () => undefined],
    ['visitor throws', good, (r) => {
      if (r.frameNumber === 3) throw new Error('visitor gave up');
    }],
  ];
  for (const [name, bytes, record] of cases) {
    let finished = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (const piece of chunk(bytes, 64)) yield piece;
      } finally {
        finished = true;
      }
    }
    await assert.rejects(readCapture(source(), { record }), name);
    assert.equal(finished, true, `${name}: the source was not returned`);
  }
});
