/**
 * Quick throughput check of the capture parser alone: writes N records of 128 bytes with our
 * writers (in memory, 1 MiB chunks) and parses them, reporting records/s.
 * `node --import tsx scripts/bench-capture.ts [records]`
 */
import { createCaptureParser, PcapWriter, PcapngWriter } from '../src/capture/index.ts';

const records = Number(process.argv[2] ?? 5_000_000);
const payload = new Uint8Array(128).fill(0x42);

function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, Math.min(bytes.length, at + size)));
  return out;
}

function build(format: 'pcap' | 'pcapng'): Uint8Array[] {
  const writer = format === 'pcap' ? new PcapWriter({ snapLength: 128 }) : new PcapngWriter();
  if (writer instanceof PcapngWriter) writer.addInterface({ snapLength: 128, tsResolution: { base: 10, exponent: 9 } });
  for (let i = 0; i < records; i++) {
    const packet = { tsSec: 1_700_000_000 + Math.floor(i / 1000), tsNanos: (i % 1000) * 1000, data: payload, originalLength: 1514 };
    if (writer instanceof PcapngWriter) writer.writeEnhancedPacket(0, packet);
    else writer.writePacket(packet);
  }
  return chunksOf(writer.drain(), 1 << 20);
}

for (const format of ['pcap', 'pcapng'] as const) {
  const chunks = build(format);
  for (let run = 0; run < 3; run++) {
    let bytes = 0;
    const parser = createCaptureParser({
      record(record) {
        bytes += record.data.length;
      },
    });
    const t0 = performance.now();
    for (const chunk of chunks) parser.push(chunk);
    const summary = parser.end();
    const seconds = (performance.now() - t0) / 1000;
    if (summary.records !== records || bytes !== records * 128) throw new Error('record count mismatch');
    console.log(`${format}: ${(records / seconds / 1e6).toFixed(2)} M records/s (${records} x 128 B in ${seconds.toFixed(3)} s)`);
  }
}
