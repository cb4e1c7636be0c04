/**
 * Recipes of the hand-minimised regression captures in fixtures/regressions/ (the minimal form of
 * inputs the fuzzer found; files the fuzzer writes itself, `fuzz-*`, are kept as found).
 *
 *   node --import tsx test/fuzz/make-regressions.ts
 *
 * Rewrites the files below; README.md and expected.json are edited by hand.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapWriter, PcapngWriter } from '../../src/capture/index.ts';
import { buildTcpFrame } from '../../src/synth/index.ts';

const DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'fixtures', 'regressions');
const T0 = 1_700_000_000;

/** A pcap file header, then a second one whose bytes 8-11 (thiszone) read as incl_len 40, then 10 bytes. */
function secondHeaderStraddlesChunk(): Uint8Array {
  const w = new PcapWriter();
  const header = w.toBytes().slice(0, 24);
  header[8] = 40;
  w.writeRaw(header);
  w.writeRaw(new Uint8Array(10));
  return w.toBytes();
}

/** One SLL frame with IPv4 total length 0 (TSO) and a record orig_len of 2^32-1. */
function tsoOriglen4g(): Uint8Array {
  const w = new PcapWriter({ linkType: 113 });
  const data = buildTcpFrame({ linkType: 113, src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80, flags: 0x011, seq: 1041, ack: 5001, ipLengthZero: true });
  w.writePacket({ tsSec: T0, tsNanos: 0, data, originalLength: 0xffffffff });
  return w.toBytes();
}

/** Two EPBs on a µs interface; the second's 64-bit timestamp has its high word 0xffffffff (year ~585,000). */
function pcapngTimestampOutOfRange(): Uint8Array {
  const w = new PcapngWriter();
  const i = w.addInterface({ linkType: 1 });
  const frame = buildTcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80, flags: 0x002, seq: 1 });
  w.writeEnhancedPacket(i, { tsSec: T0, tsNanos: 0, data: frame });
  const at = w.pendingBytes;
  w.writeEnhancedPacket(i, { tsSec: T0 + 1, tsNanos: 0, data: frame });
  const bytes = w.toBytes();
  new DataView(bytes.buffer).setUint32(at + 12, 0xffffffff, true);
  return bytes;
}

writeFileSync(join(DIR, 'pcap-second-header-straddles-chunk.pcap'), secondHeaderStraddlesChunk());
writeFileSync(join(DIR, 'tso-origlen-4g.pcap'), tsoOriglen4g());
writeFileSync(join(DIR, 'pcapng-timestamp-out-of-range.pcapng'), pcapngTimestampOutOfRange());
