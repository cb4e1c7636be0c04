/**
 * Test captures of our own making. {@link conversationsPcap}: a whole pcap of generated
 * conversations (fixed seed), in memory. {@link SyntheticCapture}: a pcap written as it is read, for the scale tests: TCP frames from our frame writer, a fixed
 * step apart in packet time from 1,700,000,000 s. Set `fields` (addresses, ports, flags, seq,
 * ack, payload length, IP id), call {@link send}; a generator yields {@link drain} whenever
 * {@link pendingBytes} passes a megabyte, so a capture of millions of packets never sits in memory.
 */
import { PcapWriter } from '../../src/capture/index.ts';
import { createTcpFrameFields, generateConversations, TcpFrameWriter } from '../../src/synth/index.ts';
import type { ConversationOptions } from '../../src/synth/index.ts';

/** The pcap (Ethernet, `snapLength`) of the conversations `options` describe, in one buffer. */
export function conversationsPcap(options: Partial<ConversationOptions> & { readonly snapLength: number }): Uint8Array {
  const writer = new PcapWriter({ snapLength: options.snapLength });
  const rec: { tsSec: number; tsNanos: number; data: Uint8Array; originalLength: number } = { tsSec: 0, tsNanos: 0, data: new Uint8Array(0), originalLength: 0 };
  generateConversations(options, (tsSec, tsNanos, frame, originalLength) => {
    rec.tsSec = tsSec;
    rec.tsNanos = tsNanos;
    rec.data = frame;
    rec.originalLength = originalLength;
    writer.writePacket(rec);
  });
  return writer.drain();
}

export class SyntheticCapture {
  readonly fields = createTcpFrameFields();
  private readonly writer: PcapWriter;
  private readonly frames = new TcpFrameWriter();
  private readonly packet = { tsSec: 1_700_000_000, tsNanos: 0, data: new Uint8Array(0) as Uint8Array, originalLength: 0 };
  private clockNanos = 0;

  /**
   * @param snapLength - bytes captured per frame.
   * @param stepNanos - packet time between two frames.
   */
  constructor(
    private readonly snapLength: number,
    private readonly stepNanos: number,
  ) {
    this.writer = new PcapWriter({ snapLength });
  }

  /** Writes the frame `fields` describe, one step after the previous one. */
  send(): void {
    const packet = this.packet;
    this.clockNanos += this.stepNanos;
    packet.tsSec = 1_700_000_000 + Math.floor(this.clockNanos / 1e9);
    packet.tsNanos = this.clockNanos % 1e9;
    packet.data = this.frames.write(this.fields, this.snapLength);
    packet.originalLength = this.frames.originalLength;
    this.writer.writePacket(packet);
  }

  /** Bytes written since the last {@link drain}. */
  get pendingBytes(): number {
    return this.writer.pendingBytes;
  }

  /** The bytes written since the last drain (the pcap header first). */
  drain(): Uint8Array {
    return this.writer.drain();
  }
}
