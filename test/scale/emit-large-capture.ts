/**
 * Writes a large classic pcap to stdout, for the >4 GiB pipe test:
 * `node --import tsx test/scale/emit-large-capture.ts TOTAL_BYTES CUT_BYTES`.
 *
 * One connection's data segments of 65,000 payload bytes (65,070 bytes per record), made once
 * with our frame writer; per record only the seq and the timestamp change, so ~70k records make
 * 4.3 GiB quickly. The stream stops when the next record would pass TOTAL_BYTES; then, when
 * CUT_BYTES > 0, the first CUT_BYTES bytes of one more record are written (a capture cut
 * mid-record). Prints nothing else; honours stdout backpressure so memory stays small.
 */
import { PcapWriter } from '../../src/capture/index.ts';
import { createTcpFrameFields, TcpFrameWriter } from '../../src/synth/index.ts';

/** Payload bytes per segment: the largest round figure under the 65,535-byte IPv4 limit. */
export const SEGMENT_PAYLOAD_BYTES = 65_000;

const [totalText, cutText] = process.argv.slice(2);
const totalBytes = Number(totalText);
const cutBytes = Number(cutText ?? 0);

const fields = createTcpFrameFields();
fields.payloadLength = SEGMENT_PAYLOAD_BYTES;
fields.flags = 0x18; // PSH ACK
fields.ack = 1;
const frame = new TcpFrameWriter().write(fields).slice();
const view = new DataView(frame.buffer);
/** Ethernet (14) + IPv4 (20) + TCP seq at 4. The checksum is left stale: offloaded checksums are not checked. */
const SEQ_OFFSET = 14 + 20 + 4;
const recordBytes = 16 + frame.length;

const writer = new PcapWriter();
let written = writer.pendingBytes;
let seq = 1;
let index = 0;
const packet = { tsSec: 1_700_000_000, tsNanos: 0, data: frame };

function next(): void {
  view.setUint32(SEQ_OFFSET, seq >>> 0);
  seq += SEGMENT_PAYLOAD_BYTES;
  packet.tsSec = 1_700_000_000 + Math.floor(index / 1000);
  packet.tsNanos = (index % 1000) * 1_000_000;
  index++;
  writer.writePacket(packet);
}

async function main(): Promise<void> {
  while (written + recordBytes <= totalBytes) {
    for (let i = 0; i < 16 && written + recordBytes <= totalBytes; i++) {
      next();
      written += recordBytes;
    }
    if (!process.stdout.write(writer.drain())) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  if (cutBytes > 0) {
    next();
    process.stdout.write(writer.drain().subarray(0, cutBytes));
  }
}

await main();
