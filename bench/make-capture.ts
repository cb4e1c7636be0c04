/**
 * Writes the benchmark capture with our own generator and pcap writer:
 * `node --import tsx bench/make-capture.ts OUT.pcap [PACKETS] [CONCURRENT]`. Realistic interleaved TCP
 * conversations (handshake, request/response data, FIN or RST close, a few retransmissions),
 * 128-byte snaplen, ~12 packets per conversation, deterministic from a fixed seed. CONCURRENT
 * (default 256, the benchmark capture's) is how many conversations are open at a time.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import { PcapWriter } from '../src/capture/index.ts';
import { generateConversations } from '../src/synth/index.ts';

const [out, packetsText, concurrentText] = process.argv.slice(2);
if (out === undefined) throw new Error('usage: make-capture.ts OUT.pcap [PACKETS] [CONCURRENT]');
const packets = Number(packetsText ?? 6_000_000);
const SNAPLEN = 128;
const fd = openSync(out, 'w');
const writer = new PcapWriter({ snapLength: SNAPLEN });
const packet: { tsSec: number; tsNanos: number; data: Uint8Array; originalLength: number } = { tsSec: 0, tsNanos: 0, data: new Uint8Array(0), originalLength: 0 };
let pending = 0;
const summary = generateConversations(
  {
    seed: 20261123,
    conversations: Math.ceil(packets / 10),
    maxPackets: packets,
    concurrency: Number(concurrentText ?? 256),
    snapLength: SNAPLEN,
    exchanges: [1, 2],
    responseBytes: [200, 6000],
  },
  (tsSec, tsNanos, frame, originalLength) => {
    packet.tsSec = tsSec;
    packet.tsNanos = tsNanos;
    packet.data = frame;
    packet.originalLength = originalLength;
    writer.writePacket(packet);
    if (++pending === 65536) {
      writeSync(fd, writer.drain());
      pending = 0;
    }
  },
);
writeSync(fd, writer.drain());
closeSync(fd);
console.log(`wrote ${out}: ${summary.packets} packets, ${summary.conversations} conversations`);
