/**
 * Bad input, tiers a and b: what throws (with the byte offset), what warns, where, and that every
 * record before the damage is kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CaptureFormatError, createCaptureParser, PcapWriter, PcapngWriter } from '../../src/capture/index.ts';
import { packetBytes, readBytes } from './helpers.ts';

function formatError(fn: () => unknown): CaptureFormatError {
  try {
    fn();
  } catch (error: unknown) {
    assert.ok(error instanceof CaptureFormatError, `expected CaptureFormatError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a CaptureFormatError');
}

function pcapWith(count: number): { bytes: Uint8Array; offsets: number[] } {
  const w = new PcapWriter();
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    offsets.push(w.pendingBytes);
    w.writePacket({ tsSec: 100 + i, tsNanos: 0, data: packetBytes(40, i) });
  }
  return { bytes: w.toBytes(), offsets };
}

function pcapngWith(count: number, bigEndian = false): { bytes: Uint8Array; offsets: number[] } {
  const w = new PcapngWriter({ bigEndian });
  w.addInterface({ snapLength: 100 });
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    offsets.push(w.pendingBytes);
    w.writeEnhancedPacket(0, { tsSec: 100 + i, tsNanos: 0, data: packetBytes(40, i) });
  }
  return { bytes: w.toBytes(), offsets };
}

// ---- tier a: not a capture ----

test('tier a: empty input, unknown magic and too-short input throw CaptureFormatError at byte 0', () => {
  assert.equal(formatError(() => readBytes(new Uint8Array(0))).byteOffset, 0);
  const binary = Uint8Array.of(0x8b, 0xd3, 0xf4, 0x30, 0, 0, 0, 0);
  const e = formatError(() => readBytes(binary));
  assert.equal(e.byteOffset, 0);
  assert.equal(e.message, 'unknown file format (magic 0x8bd3f430): not a pcap or pcapng capture');
  assert.equal(formatError(() => readBytes(Uint8Array.of(0xd4, 0xc3))).byteOffset, 0);
});

test('tier a: what a ticket attachment that is not a capture is, and what to do with it', () => {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  const cases: [string, Uint8Array, RegExp][] = [
    ['zip', Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0), /^a ZIP archive, not a pcap or pcapng capture: extract the capture from it first \(unzip\)$/],
    ['7z', Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c), /^a 7-Zip archive, /],
    ['rar', text('Rar!\x1a\x07'), /^a RAR archive, /],
    ['xz', Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00), /^xz-compressed data, .*xzcat FILE \| tcpmortem report -$/],
    ['zstd', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0, 0), /^zstd-compressed data, .*zstdcat FILE \| tcpmortem report -$/],
    ['bzip2', text('BZh91AY&SY'), /^bzip2-compressed data, .*bzcat FILE \| tcpmortem report -$/],
    ['snoop', text('snoop\0\0\0'), /^a snoop capture, .*editcap -F pcap/],
    ['netmon', text('GMBU\0\x02'), /^a Network Monitor capture, .*editcap -F pcapng/],
    ['json', text('{\n  "schema": "tcpmortem/1"'), /^a JSON document, .*tcpmortem render FILE$/],
    ['json after spaces', text('  [1, 2]'), /^a JSON document, /],
    ['tcpdump text', text('22:00:00.000030 IP 10.0.0.1.51889 > 192.168.0.1.80'), /^text, not a pcap or pcapng capture: tcpdump -w FILE writes a capture/],
    ['html', text('<html><body>not a capture</body></html>'), /^text, /],
  ];
  for (const [name, bytes, message] of cases) {
    const e = formatError(() => readBytes(bytes));
    assert.equal(e.byteOffset, 0, name);
    assert.match(e.message, message, name);
  }
});

test('tier a: gzip bytes given to the push parser are named as such', () => {
  assert.match(formatError(() => readBytes(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0))).message, /gzip/);
});

test('tier a: pcap header problems carry the offset of the bad field', () => {
  const version = new PcapWriter().toBytes();
  new DataView(version.buffer).setUint16(4, 1, true);
  const v = formatError(() => readBytes(version));
  assert.equal(v.byteOffset, 4);
  assert.match(v.message, /unsupported pcap version 1\.4/);

  const reserved = new PcapWriter().toBytes();
  new DataView(reserved.buffer).setUint32(20, 0x00300001, true);
  assert.equal(formatError(() => readBytes(reserved)).byteOffset, 20);

  const short = new PcapWriter().toBytes().subarray(0, 20);
  const s = formatError(() => readBytes(short, 3));
  assert.match(s.message, /file header/);
  assert.equal(s.byteOffset, 20);
});

test('tier a: a bad first section header (byte-order magic, version, length, trailer) throws', () => {
  const base = pcapngWith(1).bytes;
  const bom = base.slice();
  new DataView(bom.buffer).setUint32(8, 0x12345678, true);
  assert.equal(formatError(() => readBytes(bom)).byteOffset, 8);

  const version = base.slice();
  new DataView(version.buffer).setUint16(12, 0, true);
  new DataView(version.buffer).setUint16(14, 1, true);
  const ve = formatError(() => readBytes(version));
  assert.equal(ve.byteOffset, 12);
  assert.match(ve.message, /version 0\.1/);

  const length = base.slice();
  new DataView(length.buffer).setUint32(4, 30, true);
  assert.equal(formatError(() => readBytes(length)).byteOffset, 4);

  const trailer = base.slice();
  new DataView(trailer.buffer).setUint32(24, 0x30303030, true); // SHB is 28 bytes: trailer at 24
  const te = formatError(() => readBytes(trailer, 5));
  assert.equal(te.byteOffset, 24);
  assert.match(te.message, /header 28 and trailer 808464432/);
});

// ---- tier b: record-level problems ----

for (const [name, make, headerBytes] of [
  ['pcap', pcapWith, 16],
  ['pcapng', pcapngWith, 28],
] as const) {
  test(`tier b, ${name}: input cut inside the last record or its header keeps the records before it`, () => {
    const { bytes, offsets } = make(5);
    const last = offsets[4]!;
    for (const cut of [last + 1, last + headerBytes - 1, last + headerBytes + 3, bytes.length - 1]) {
      for (const size of [1, 7, bytes.length]) {
        const { records, summary } = readBytes(bytes.subarray(0, cut), size);
        assert.equal(records.length, 4, `cut at ${cut}`);
        assert.equal(summary.stoppedEarly, true);
        assert.deepEqual(
          summary.warnings.map((w) => [w.code, w.byteOffset, w.frameNumber]),
          [['truncated_final_record', last, 5]],
        );
        assert.equal(summary.bytesRead, last);
      }
    }
  });
}

test('tier b, pcapng: zero, too small, unaligned, 2^31 and 2^32-1 block lengths stop at the block', () => {
  for (const bad of [0, 8, 46, 2 ** 31, 2 ** 32 - 1]) {
    for (const bigEndian of [false, true]) {
      const { bytes, offsets } = pcapngWith(4, bigEndian);
      new DataView(bytes.buffer).setUint32(offsets[2]! + 4, bad, !bigEndian);
      const { records, summary } = readBytes(bytes, 7);
      assert.equal(records.length, 2, `length ${bad}`);
      assert.equal(summary.stoppedEarly, true);
      // 2^32-1 is unaligned, which is checked first.
      const code = bad === 2 ** 31 ? 'block_too_large' : 'bad_block_length';
      assert.deepEqual(summary.warnings.map((w) => [w.code, w.byteOffset, w.frameNumber]), [[code, offsets[2], 3]]);
    }
  }
});

test('tier b, pcapng: a trailing length that does not match stops at the block', () => {
  const { bytes, offsets } = pcapngWith(3);
  new DataView(bytes.buffer).setUint32(offsets[2]! - 4, 999, true); // trailer of block 2
  const { records, summary } = readBytes(bytes);
  assert.equal(records.length, 1);
  assert.deepEqual(summary.warnings.map((w) => [w.code, w.byteOffset]), [['bad_block_length', offsets[1]]]);
});

test('tier b: maxBlockBytes is enforced from the length field, before the block is buffered', () => {
  const { bytes, offsets } = pcapngWith(3);
  // Pushed byte by byte: the warning must come as soon as the length field is complete.
  let pushed = 0;
  let warnedAfter = -1;
  const parser = createCaptureParser(
    {
      record() {},
      warning() {
        warnedAfter = pushed;
      },
    },
    { maxBlockBytes: 64 },
  );
  for (let i = 0; i < bytes.length; i++) {
    pushed = i + 1;
    parser.push(bytes.subarray(i, i + 1));
  }
  assert.equal(warnedAfter, offsets[0]! + 8);
  const summary = parser.end();
  assert.equal(summary.records, 0);
  assert.deepEqual(summary.warnings.map((w) => [w.code, w.byteOffset]), [['block_too_large', offsets[0]]]);

  const pcap = pcapWith(2).bytes;
  const big = readBytes(pcap, 1, { maxBlockBytes: 40 });
  assert.deepEqual(big.summary.warnings.map((w) => w.code), ['record_too_large']);
});

test('tier b, pcap: a captured length past the cap stops; one above the snaplen is kept with a warning', () => {
  const w = new PcapWriter({ snapLength: 50 });
  w.writePacket({ tsSec: 1, tsNanos: 0, data: packetBytes(60, 0) });
  const at = w.pendingBytes;
  w.writePacket({ tsSec: 2, tsNanos: 0, data: packetBytes(10, 0) });
  const bytes = w.toBytes();
  new DataView(bytes.buffer).setUint32(at + 8, 3_925_868_813, true);
  const { records, summary } = readBytes(bytes);
  assert.equal(records.length, 1);
  assert.equal(records[0]?.capturedLength, 60);
  assert.deepEqual(summary.warnings.map((x) => [x.code, x.byteOffset, x.frameNumber]), [
    ['caplen_exceeds_snaplen', 24, 1],
    ['record_too_large', at, 2],
  ]);
});

test('tier b, pcapng: caplen above the interface snaplen is kept with a warning', () => {
  const w = new PcapngWriter();
  w.addInterface({ snapLength: 20 });
  w.writeEnhancedPacket(0, { tsSec: 1, tsNanos: 0, data: packetBytes(30, 0) });
  const { records, summary } = readBytes(w.toBytes());
  assert.equal(records.length, 1);
  assert.deepEqual(summary.warnings.map((x) => x.code), ['caplen_exceeds_snaplen']);
  assert.equal(summary.stoppedEarly, false);
});

test('tier b, pcapng: a packet on an undeclared interface is skipped and reading goes on', () => {
  const w = new PcapngWriter();
  w.addInterface();
  const bad = w.pendingBytes;
  w.writeBlock(6, Uint8Array.of(...new Array<number>(20).fill(0)).map((_, i) => (i === 0 ? 7 : 0)));
  w.writeEnhancedPacket(0, { tsSec: 5, tsNanos: 0, data: packetBytes(4, 0) });
  const { records, summary } = readBytes(w.toBytes());
  assert.deepEqual(records.map((r) => r.tsSec), [5]);
  assert.deepEqual(summary.warnings.map((x) => [x.code, x.byteOffset]), [['unknown_interface', bad]]);
  assert.equal(summary.stoppedEarly, false);
});

test('tier b, pcapng: a later section header with a bad byte-order magic stops there', () => {
  const { bytes } = pcapngWith(2);
  const w = new PcapngWriter();
  const second = w.toBytes();
  new DataView(second.buffer).setUint32(8, 0xdeadbeef, true);
  const joined = new Uint8Array([...bytes, ...second]);
  const { records, summary } = readBytes(joined, 7);
  assert.equal(records.length, 2);
  assert.deepEqual(summary.warnings.map((x) => [x.code, x.byteOffset]), [['bad_byte_order_magic', bytes.length]]);
});

test('tier b, pcap: a second file header mid-file (concatenated captures) stops there', () => {
  const a = pcapWith(2).bytes;
  const b = new PcapWriter({ bigEndian: true, nanosecond: true });
  b.writePacket({ tsSec: 1, tsNanos: 0, data: packetBytes(4, 0) });
  const joined = new Uint8Array([...a, ...b.toBytes()]);
  const { records, summary } = readBytes(joined);
  assert.equal(records.length, 2);
  assert.deepEqual(summary.warnings.map((x) => [x.code, x.byteOffset, x.frameNumber]), [['unexpected_file_header', a.length, 3]]);
});

test('tier b: a repeated warning is reported at most 10 times', () => {
  const w = new PcapWriter({ snapLength: 10 });
  for (let i = 0; i < 50; i++) w.writePacket({ tsSec: i, tsNanos: 0, data: packetBytes(20, i) });
  const { records, summary } = readBytes(w.toBytes());
  assert.equal(records.length, 50);
  assert.equal(summary.warnings.length, 10);
});

test('fuzz: mutated captures end in a summary or a CaptureFormatError, never another exception', () => {
  const seeds = [pcapWith(6).bytes, pcapngWith(6).bytes, pcapngWith(6, true).bytes];
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.nat(),
      fc.integer({ min: 1, max: 64 }),
      (which, flips, cut, chunkSize) => {
        const bytes = seeds[which]!.slice();
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        const input = bytes.subarray(0, bytes.length - (cut % 16));
        try {
          const { summary, records } = readBytes(input, chunkSize);
          assert.equal(summary.records, records.length);
          assert.ok(summary.bytesRead <= input.length);
        } catch (error: unknown) {
          if (!(error instanceof CaptureFormatError)) throw error;
          assert.ok(Number.isInteger(error.byteOffset) && error.byteOffset >= 0 && error.byteOffset <= input.length);
        }
      },
    ),
    { seed: 42, numRuns: 3000 },
  );
});
