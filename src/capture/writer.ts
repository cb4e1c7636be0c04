/**
 * Our own pcap and pcapng writers, used by tests, fixture recipes and the benchmark, so no
 * outside tool is needed to make a capture.
 *
 * Both writers stream: every call appends bytes to an internal growable buffer; `drain()` hands
 * out what was written since the last drain (so millions of packets can go to a file without
 * holding it in memory), and `toBytes()` returns a copy of everything not yet drained.
 *
 * Timestamps are given as whole seconds since the epoch plus nanoseconds, like
 * {@link CaptureRecord}; they are truncated to the file's resolution.
 *
 * @module
 */

/** A point in packet time: whole seconds since the epoch and nanoseconds within that second. */
export interface Timestamp {
  readonly tsSec: number;
  /** 0..999 999 999. */
  readonly tsNanos: number;
}

/** One packet to write. */
export interface PacketInput extends Timestamp {
  /** The captured bytes (written as is; their length is the captured length). */
  readonly data: Uint8Array;
  /** Length on the wire; default `data.length`. Larger than `data.length` means snaplen-truncated. */
  readonly originalLength?: number;
  /** pcapng only: an `opt_comment` on the packet block. */
  readonly comment?: string;
}

/** Options of {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** LINKTYPE_* of the file; default 1 (Ethernet). */
  readonly linkType?: number;
  /** Snapshot length in the header; default 262144. */
  readonly snapLength?: number;
  /** Nanosecond magic (0xa1b23c4d) instead of microseconds; default false. */
  readonly nanosecond?: boolean;
  /** Big-endian file; default false (little-endian, what x86 tcpdump writes). */
  readonly bigEndian?: boolean;
}

/** Options of one pcapng section (Section Header Block). */
export interface PcapngSectionOptions {
  /** Big-endian section; default false. */
  readonly bigEndian?: boolean;
  /** `opt_comment` on the section header. */
  readonly comment?: string;
  /** Section version; default 1.0. Only for making broken files. */
  readonly versionMajor?: number;
  readonly versionMinor?: number;
}

/** Options of one pcapng interface (Interface Description Block). */
export interface PcapngInterfaceOptions {
  /** LINKTYPE_* value; default 1 (Ethernet). */
  readonly linkType?: number;
  /** Snapshot length; default 0 (no limit). */
  readonly snapLength?: number;
  /** `if_tsresol`: units of base^-exponent seconds; default { base: 10, exponent: 6 } (µs, option omitted). */
  readonly tsResolution?: { readonly base: 10 | 2; readonly exponent: number };
  /** `if_tsoffset` in seconds (timestamps are written relative to it); default 0 (option omitted). */
  readonly tsOffsetSeconds?: number;
  readonly name?: string;
  readonly description?: string;
  readonly comment?: string;
}

/** Figures of one Interface Statistics Block; each counter is written only when given. */
export interface PcapngStatisticsInput extends Timestamp {
  readonly received?: number;
  readonly interfaceDrops?: number;
  readonly filterAccepted?: number;
  readonly osDrops?: number;
  readonly deliveredToUser?: number;
  readonly comment?: string;
}

const TWO_32 = 4294967296;
const utf8 = new TextEncoder();

/** Growable output buffer shared by both writers. */
class ByteSink {
  protected buf = new Uint8Array(1 << 16);
  protected view = new DataView(this.buf.buffer);
  protected length = 0;

  /** Returns the bytes written since the last drain and forgets them. */
  drain(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    return out;
  }

  /** A copy of every byte not yet drained (the whole file if `drain` was never called). */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** Bytes buffered and not yet drained. */
  get pendingBytes(): number {
    return this.length;
  }

  /** Appends raw bytes, e.g. garbage for a malformed-input fixture. */
  writeRaw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  protected ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  protected u16(value: number, le: boolean): void {
    this.ensure(2);
    this.view.setUint16(this.length, value, le);
    this.length += 2;
  }

  protected u32(value: number, le: boolean): void {
    this.ensure(4);
    this.view.setUint32(this.length, value >>> 0, le);
    this.length += 4;
  }

  protected zeros(count: number): void {
    this.ensure(count);
    this.buf.fill(0, this.length, this.length + count);
    this.length += count;
  }
}

/** Writes a classic pcap file (version 2.4). The file header is written by the constructor. */
export class PcapWriter extends ByteSink {
  private readonly le: boolean;
  private readonly nanosecond: boolean;

  constructor(options: PcapWriterOptions = {}) {
    super();
    this.le = options.bigEndian !== true;
    this.nanosecond = options.nanosecond === true;
    this.u32(this.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, this.le);
    this.u16(2, this.le);
    this.u16(4, this.le);
    this.u32(0, this.le);
    this.u32(0, this.le);
    this.u32(options.snapLength ?? 262144, this.le);
    this.u32(options.linkType ?? 1, this.le);
  }

  /** Appends one record. */
  writePacket(packet: PacketInput): void {
    const le = this.le;
    const captured = packet.data.length;
    this.ensure(16 + captured);
    const view = this.view;
    const at = this.length;
    view.setUint32(at, packet.tsSec, le);
    view.setUint32(at + 4, this.nanosecond ? packet.tsNanos : Math.floor(packet.tsNanos / 1000), le);
    view.setUint32(at + 8, captured, le);
    view.setUint32(at + 12, packet.originalLength ?? captured, le);
    this.buf.set(packet.data, at + 16);
    this.length = at + 16 + captured;
  }
}

interface WriterInterface {
  readonly base: 10 | 2;
  readonly exponent: number;
  readonly offsetSeconds: number;
}

/**
 * Writes a pcapng file. The constructor writes the first Section Header Block; {@link section}
 * starts another one (possibly in the other byte order). Interface ids passed to the packet
 * methods are section-local, as in the file format, and returned by {@link addInterface}.
 */
export class PcapngWriter extends ByteSink {
  private le = true;
  private interfaces: WriterInterface[] = [];
  private blockStart = 0;
  private optionsWritten = false;
  private hi = 0;
  private lo = 0;

  constructor(section: PcapngSectionOptions = {}) {
    super();
    this.section(section);
  }

  /** Starts a new section; interfaces of earlier sections can no longer be used. */
  section(options: PcapngSectionOptions = {}): void {
    this.le = options.bigEndian !== true;
    this.interfaces = [];
    this.begin(0x0a0d0d0a);
    this.u32(0x1a2b3c4d, this.le);
    this.u16(options.versionMajor ?? 1, this.le);
    this.u16(options.versionMinor ?? 0, this.le);
    // Section length -1: not specified.
    this.u32(0xffffffff, this.le);
    this.u32(0xffffffff, this.le);
    if (options.comment !== undefined) this.stringOption(1, options.comment);
    this.finish();
  }

  /** Declares an interface in the current section; returns its section-local id. */
  addInterface(options: PcapngInterfaceOptions = {}): number {
    const le = this.le;
    const base = options.tsResolution?.base ?? 10;
    const exponent = options.tsResolution?.exponent ?? 6;
    this.begin(1);
    this.u16(options.linkType ?? 1, le);
    this.u16(0, le);
    this.u32(options.snapLength ?? 0, le);
    if (options.name !== undefined) this.stringOption(2, options.name);
    if (options.description !== undefined) this.stringOption(3, options.description);
    if (options.tsResolution !== undefined) {
      this.optionHeader(9, 1);
      this.writeRaw(Uint8Array.of(base === 2 ? 0x80 | exponent : exponent));
      this.zeros(3);
    }
    const offsetSeconds = options.tsOffsetSeconds ?? 0;
    if (options.tsOffsetSeconds !== undefined) this.u64Option(14, offsetSeconds);
    if (options.comment !== undefined) this.stringOption(1, options.comment);
    this.finish();
    this.interfaces.push({ base, exponent, offsetSeconds });
    return this.interfaces.length - 1;
  }

  /** Appends an Enhanced Packet Block. */
  writeEnhancedPacket(interfaceId: number, packet: PacketInput): void {
    this.encodeTimestamp(interfaceId, packet);
    this.begin(6);
    this.u32(interfaceId, this.le);
    this.packetBody(packet);
  }

  /** Appends an obsolete Packet Block (type 2) with its 16-bit drops counter. */
  writeObsoletePacket(interfaceId: number, packet: PacketInput & { readonly drops?: number }): void {
    this.encodeTimestamp(interfaceId, packet);
    this.begin(2);
    this.u16(interfaceId, this.le);
    this.u16(packet.drops ?? 0, this.le);
    this.packetBody(packet);
  }

  /**
   * Appends a Simple Packet Block. Readers take its captured length as min(original length,
   * snaplen of interface 0), so pass `data` already cut to that length.
   */
  writeSimplePacket(data: Uint8Array, originalLength: number = data.length): void {
    this.begin(3);
    this.u32(originalLength, this.le);
    this.writeRaw(data);
    this.zeros((4 - (data.length & 3)) & 3);
    this.finish();
  }

  /** Appends an Interface Statistics Block. */
  writeInterfaceStatistics(interfaceId: number, stats: PcapngStatisticsInput): void {
    this.encodeTimestamp(interfaceId, stats);
    this.begin(5);
    this.u32(interfaceId, this.le);
    this.u32(this.hi, this.le);
    this.u32(this.lo, this.le);
    if (stats.received !== undefined) this.u64Option(4, stats.received);
    if (stats.interfaceDrops !== undefined) this.u64Option(5, stats.interfaceDrops);
    if (stats.filterAccepted !== undefined) this.u64Option(6, stats.filterAccepted);
    if (stats.osDrops !== undefined) this.u64Option(7, stats.osDrops);
    if (stats.deliveredToUser !== undefined) this.u64Option(8, stats.deliveredToUser);
    if (stats.comment !== undefined) this.stringOption(1, stats.comment);
    this.finish();
  }

  /** Appends a block of any type with the given body (padded to 4 bytes): custom or unknown blocks. */
  writeBlock(type: number, body: Uint8Array): void {
    this.begin(type);
    this.writeRaw(body);
    this.zeros((4 - (body.length & 3)) & 3);
    this.finish();
  }

  private packetBody(packet: PacketInput): void {
    const le = this.le;
    const captured = packet.data.length;
    this.u32(this.hi, le);
    this.u32(this.lo, le);
    this.u32(captured, le);
    this.u32(packet.originalLength ?? captured, le);
    this.writeRaw(packet.data);
    this.zeros((4 - (captured & 3)) & 3);
    if (packet.comment !== undefined) this.stringOption(1, packet.comment);
    this.finish();
  }

  /** Sets `hi`/`lo` to the 64-bit unit count of `ts` for the interface's resolution and offset. */
  private encodeTimestamp(interfaceId: number, ts: Timestamp): void {
    const iface = this.interfaces[interfaceId];
    if (iface === undefined) throw new RangeError(`interface ${interfaceId} not declared in this section`);
    const sec = ts.tsSec - iface.offsetSeconds;
    if (iface.base === 10 && iface.exponent <= 9) {
      const units = 10 ** iface.exponent;
      const total = sec * units + Math.floor(ts.tsNanos / (1e9 / units));
      if (Number.isSafeInteger(total) && total >= 0) {
        this.hi = Math.floor(total / TWO_32);
        this.lo = total - this.hi * TWO_32;
        return;
      }
    }
    // Exact slow path: nanosecond counts past 2^53 and binary resolutions.
    const units = iface.base === 10 ? 10n ** BigInt(iface.exponent) : 2n ** BigInt(iface.exponent);
    const total = BigInt(sec) * units + (BigInt(ts.tsNanos) * units) / 1000000000n;
    this.hi = Number((total >> 32n) & 0xffffffffn);
    this.lo = Number(total & 0xffffffffn);
  }

  private begin(type: number): void {
    this.blockStart = this.length;
    this.optionsWritten = false;
    this.u32(type, this.le);
    this.u32(0, this.le);
  }

  private finish(): void {
    if (this.optionsWritten) this.u32(0, this.le);
    const total = this.length - this.blockStart + 4;
    this.u32(total, this.le);
    this.view.setUint32(this.blockStart + 4, total, this.le);
  }

  private optionHeader(code: number, length: number): void {
    this.optionsWritten = true;
    this.u16(code, this.le);
    this.u16(length, this.le);
  }

  private stringOption(code: number, text: string): void {
    const bytes = utf8.encode(text);
    this.optionHeader(code, bytes.length);
    this.writeRaw(bytes);
    this.zeros((4 - (bytes.length & 3)) & 3);
  }

  private u64Option(code: number, value: number): void {
    const hi = Math.floor(value / TWO_32);
    const lo = value - hi * TWO_32;
    this.optionHeader(code, 8);
    if (this.le) {
      this.u32(lo, true);
      this.u32(hi, true);
    } else {
      this.u32(hi, false);
      this.u32(lo, false);
    }
  }
}
