/**
 * The same capture fed in 1-byte, 2-byte, 7-byte, 64 KiB chunks, random splits and whole gives
 * identical records and callbacks, including the warnings of a damaged tail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createCaptureParser, PcapWriter, PcapngWriter } from '../../src/capture/index.ts';
import { packetBytes, readBytes } from './helpers.ts';

function pcapSample(): Uint8Array {
  const w = new PcapWriter({ nanosecond: true, bigEndian: true, snapLength: 1000 });
  for (let i = 0; i < 300; i++) {
    w.writePacket({ tsSec: 1_600_000_000 + i, tsNanos: i * 7919, data: packetBytes((i * 37) % 1200, i), originalLength: 1500 });
  }
  return w.toBytes();
}

function pcapngSample(): Uint8Array {
  const w = new PcapngWriter({ comment: 'multi' });
  const a = w.addInterface({ snapLength: 2000, tsResolution: { base: 10, exponent: 9 } });
  const b = w.addInterface({ linkType: 113, tsResolution: { base: 2, exponent: 24 }, tsOffsetSeconds: 10 });
  for (let i = 0; i < 200; i++) {
    const p = { tsSec: 1_600_000_000 + i, tsNanos: (i * 104_729) % 1e9, data: packetBytes((i * 53) % 1600, i) };
    if (i % 3 === 0) w.writeEnhancedPacket(a, { ...p, comment: `p${i}` });
    else if (i % 3 === 1) w.writeObsoletePacket(b, p);
    else w.writeSimplePacket(p.data);
    if (i % 50 === 0) w.writeInterfaceStatistics(a, { tsSec: p.tsSec, tsNanos: 0, received: i, interfaceDrops: 1 });
    if (i === 100) {
      w.section({ bigEndian: true });
      w.addInterface({ snapLength: 300 });
      w.addInterface({ linkType: 101 });
    }
  }
  return w.toBytes();
}

const samples: [string, Uint8Array][] = [
  ['pcap', pcapSample()],
  ['pcapng', pcapngSample()],
];

for (const [name, bytes] of samples) {
  test(`${name}: 1, 2, 7, 64 KiB chunks and whole give identical records and callbacks`, () => {
    const whole = readBytes(bytes);
    assert.ok(whole.records.length >= 200);
    for (const size of [1, 2, 7, 65536]) {
      const split = readBytes(bytes, size);
      assert.deepEqual(split.records, whole.records, `chunk size ${size}`);
      assert.deepEqual(split.events, whole.events, `chunk size ${size}`);
      assert.deepEqual(split.summary, whole.summary, `chunk size ${size}`);
    }
  });

  test(`${name}: cut mid-record, every chunking keeps the same records and reports the same truncation`, () => {
    const cut = bytes.subarray(0, bytes.length - 5);
    const whole = readBytes(cut);
    assert.equal(whole.summary.stoppedEarly, true);
    assert.equal(whole.summary.warnings.at(-1)?.code, 'truncated_final_record');
    for (const size of [1, 7, 65536]) assert.deepEqual(readBytes(cut, size), whole, `chunk size ${size}`);
  });

  test(`${name}: random chunk boundaries change nothing`, () => {
    const whole = JSON.stringify(readBytes(bytes));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length }), { maxLength: 40 }), (cuts) => {
        const points = [...new Set(cuts)].sort((x, y) => x - y);
        const records: string[] = [];
        const parser = createCaptureParser({ record: (r) => void records.push(`${r.frameNumber}:${r.byteOffset}:${r.data.length}`) });
        let from = 0;
        for (const p of [...points, bytes.length]) {
          parser.push(bytes.slice(from, p));
          from = p;
        }
        parser.end();
        const expected = JSON.parse(whole) as { records: { frameNumber: number; byteOffset: number; capturedLength: number }[] };
        assert.deepEqual(records, expected.records.map((r) => `${r.frameNumber}:${r.byteOffset}:${r.capturedLength}`));
      }),
      { seed: 7, numRuns: 100 },
    );
  });
}

test('records inside a chunk are views of it, not copies', () => {
  const bytes = pcapSample();
  const chunk = bytes.slice();
  let views = 0;
  const parser = createCaptureParser({
    record(r) {
      if (r.data.buffer === chunk.buffer) views++;
    },
  });
  parser.push(chunk);
  const summary = parser.end();
  assert.equal(views, summary.records);
});
