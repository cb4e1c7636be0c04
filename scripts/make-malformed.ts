/**
 * Writes the malformed-capture corpus into fixtures/malformed/: small broken captures made with
 * our own writer, a README.md with one line per file (what it is, what the reader must report)
 * and expected.json (the same, for test/capture/malformed.test.ts).
 *
 * Run: `node --import tsx scripts/make-malformed.ts`. The test regenerates every file in memory
 * and fails when a fixture on disk differs, so fixtures cannot go stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapWriter, PcapngWriter } from '../src/capture/index.ts';

/** What reading one malformed file must give. */
export interface MalformedExpectation {
  /** Tier a: a CaptureFormatError at this byte offset. */
  readonly errorOffset?: number;
  /** Tier b: the first warning's code and byte offset. */
  readonly warningCode?: string;
  readonly warningOffset?: number;
  /** Records delivered before the damage. */
  readonly records: number;
}

export interface MalformedCase {
  readonly file: string;
  readonly description: string;
  readonly bytes: Uint8Array;
  readonly expect: MalformedExpectation;
}

function payload(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i) & 0xff;
  return out;
}

/** A pcap with `count` 60-byte records; returns the bytes and each record's offset. */
function pcap(count: number): { bytes: Uint8Array; offsets: number[] } {
  const w = new PcapWriter({ snapLength: 65535 });
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    offsets.push(w.pendingBytes);
    w.writePacket({ tsSec: 1_700_000_000 + i, tsNanos: i * 1000, data: payload(60, i) });
  }
  return { bytes: w.toBytes(), offsets };
}

function pcapng(count: number): { bytes: Uint8Array; offsets: number[] } {
  const w = new PcapngWriter();
  w.addInterface({ snapLength: 65535 });
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    offsets.push(w.pendingBytes);
    w.writeEnhancedPacket(0, { tsSec: 1_700_000_000 + i, tsNanos: i * 1000, data: payload(60, i) });
  }
  return { bytes: w.toBytes(), offsets };
}

function withU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(at, value, true);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function malformedCases(): MalformedCase[] {
  const p = pcap(4);
  const n = pcapng(4);
  const p3 = p.offsets[3]!;
  const n3 = n.offsets[3]!;
  const garbage = new TextEncoder().encode('GARBAGE!'.repeat(5));
  const secondShb = withU32(new PcapngWriter().toBytes(), 8, 0xdeadbeef);
  return [
    { file: 'empty.pcap', description: 'zero bytes', bytes: new Uint8Array(0), expect: { errorOffset: 0, records: 0 } },
    {
      file: 'not-a-capture.pcap',
      description: 'a text file named .pcap',
      bytes: new TextEncoder().encode('this is not a capture file\n'),
      expect: { errorOffset: 0, records: 0 },
    },
    {
      file: 'pcap-truncated-file-header.pcap',
      description: 'the first 10 bytes of a pcap file header',
      bytes: p.bytes.slice(0, 10),
      expect: { errorOffset: 10, records: 0 },
    },
    {
      file: 'pcap-truncated-record-header.pcap',
      description: '3 records, then 5 bytes of the 4th record header',
      bytes: p.bytes.slice(0, p3 + 5),
      expect: { warningCode: 'truncated_final_record', warningOffset: p3, records: 3 },
    },
    {
      file: 'pcap-truncated-record-data.pcap',
      description: '3 records, then the 4th cut 20 bytes into its data',
      bytes: p.bytes.slice(0, p3 + 16 + 20),
      expect: { warningCode: 'truncated_final_record', warningOffset: p3, records: 3 },
    },
    {
      file: 'pcap-caplen-2g.pcap',
      description: '3 records, then a record header with incl_len 2^31',
      bytes: withU32(p.bytes, p3 + 8, 2 ** 31),
      expect: { warningCode: 'record_too_large', warningOffset: p3, records: 3 },
    },
    {
      file: 'pcap-caplen-4g.pcap',
      description: '3 records, then a record header with incl_len 2^32-1',
      bytes: withU32(p.bytes, p3 + 8, 2 ** 32 - 1),
      expect: { warningCode: 'record_too_large', warningOffset: p3, records: 3 },
    },
    {
      file: 'pcap-garbage-after-records.pcap',
      description: '4 records, then 40 bytes of text',
      bytes: concat(p.bytes, garbage),
      expect: { warningCode: 'record_too_large', warningOffset: p.bytes.length, records: 4 },
    },
    {
      file: 'pcap-concatenated.pcap',
      description: '4 records, then a second pcap file (header and records) appended',
      bytes: concat(p.bytes, pcap(2).bytes),
      expect: { warningCode: 'unexpected_file_header', warningOffset: p.bytes.length, records: 4 },
    },
    {
      file: 'pcapng-bad-shb-version.pcapng',
      description: 'a section header claiming version 0.1',
      bytes: (() => {
        const out = n.bytes.slice();
        new DataView(out.buffer).setUint16(12, 0, true);
        new DataView(out.buffer).setUint16(14, 1, true);
        return out;
      })(),
      expect: { errorOffset: 12, records: 0 },
    },
    {
      file: 'pcapng-zero-block-length.pcapng',
      description: '3 packets, then a block whose total length is 0',
      bytes: withU32(n.bytes, n3 + 4, 0),
      expect: { warningCode: 'bad_block_length', warningOffset: n3, records: 3 },
    },
    {
      file: 'pcapng-unaligned-block-length.pcapng',
      description: '3 packets, then a block whose total length (94) is not a multiple of 4',
      bytes: withU32(n.bytes, n3 + 4, 94),
      expect: { warningCode: 'bad_block_length', warningOffset: n3, records: 3 },
    },
    {
      file: 'pcapng-block-length-2g.pcapng',
      description: '3 packets, then a block whose total length is 2^31 (past the 256 MiB cap)',
      bytes: withU32(n.bytes, n3 + 4, 2 ** 31),
      expect: { warningCode: 'block_too_large', warningOffset: n3, records: 3 },
    },
    {
      file: 'pcapng-block-length-4g-minus-1.pcapng',
      description: '3 packets, then a block whose total length is 2^32-1 (unaligned, so bad_block_length)',
      bytes: withU32(n.bytes, n3 + 4, 2 ** 32 - 1),
      expect: { warningCode: 'bad_block_length', warningOffset: n3, records: 3 },
    },
    {
      file: 'pcapng-trailer-mismatch.pcapng',
      description: '3 packets, then a block whose trailing total length disagrees with its header',
      bytes: withU32(n.bytes, n.bytes.length - 4, 0x30303030),
      expect: { warningCode: 'bad_block_length', warningOffset: n3, records: 3 },
    },
    {
      file: 'pcapng-truncated-block.pcapng',
      description: '3 packets, then the 4th packet block cut 30 bytes in',
      bytes: n.bytes.slice(0, n3 + 30),
      expect: { warningCode: 'truncated_final_record', warningOffset: n3, records: 3 },
    },
    {
      file: 'pcapng-garbage-after-blocks.pcapng',
      description: '4 packets, then 40 bytes of text (read as a block of unaligned length 0x21454741)',
      bytes: concat(n.bytes, garbage),
      expect: { warningCode: 'bad_block_length', warningOffset: n.bytes.length, records: 4 },
    },
    {
      file: 'pcapng-bad-byte-order-magic-mid-file.pcapng',
      description: '4 packets, then a second section header with byte-order magic 0xdeadbeef',
      bytes: concat(n.bytes, secondShb),
      expect: { warningCode: 'bad_byte_order_magic', warningOffset: n.bytes.length, records: 4 },
    },
  ];
}

function expectationText(e: MalformedExpectation): string {
  if (e.errorOffset !== undefined) return `CaptureFormatError at byte ${e.errorOffset}`;
  return `warning \`${e.warningCode}\` at byte ${e.warningOffset}, ${e.records} records kept, stoppedEarly`;
}

/** Writes the corpus, README.md and expected.json into `dir`. */
export function writeMalformedCorpus(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const cases = malformedCases();
  const lines = [
    '# Malformed captures',
    '',
    'Generated — do not edit — run `node --import tsx scripts/make-malformed.ts`.',
    'Small broken captures made with our own writer (`src/capture/writer.ts`); `test/capture/malformed.test.ts`',
    'reads each one and checks the outcome below (also in `expected.json`). Offsets are byte offsets in the file.',
    '',
  ];
  const expected: Record<string, MalformedExpectation> = {};
  for (const c of cases) {
    writeFileSync(join(dir, c.file), c.bytes);
    lines.push(`- \`${c.file}\`: ${c.description}. Must report: ${expectationText(c.expect)}.`);
    expected[c.file] = c.expect;
  }
  writeFileSync(join(dir, 'README.md'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeMalformedCorpus(resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/malformed'));
}
