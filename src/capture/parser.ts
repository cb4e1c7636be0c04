/**
 * The synchronous push parser: detects the container format from the magic number and frames
 * the byte stream into records, handing them to a {@link CaptureVisitor}.
 *
 * Framing is zero-copy: a record that lies inside the pushed chunk is handed out as a view of
 * that chunk. Only a unit (file header, record, block) that straddles two chunks is assembled in
 * a carry buffer, which is reused and grows to the largest such unit (never beyond
 * `maxBlockBytes`, which is checked from the length field BEFORE any byte is buffered).
 *
 * @module
 */

import {
  CaptureFormatError,
  DEFAULT_CAPTURE_OPTIONS,
  type ByteOrder,
  type CaptureFormat,
  type CaptureInterface,
  type CaptureOptions,
  type CaptureRecord,
  type CaptureSummary,
  type CaptureVisitor,
  type CaptureWarning,
  type InterfaceStatistics,
} from './types.ts';
import { PcapFramer } from './pcap.ts';
import { PcapngFramer } from './pcapng.ts';

/** The push parser returned by {@link createCaptureParser}. */
export interface CaptureParser {
  /**
   * Feeds the next chunk of the (decompressed) stream. Records found are handed to the visitor
   * synchronously, before `push` returns. The parser does not keep `chunk` after returning
   * (a straddling tail is copied), so the caller may reuse it.
   *
   * @throws {CaptureFormatError} when the input is not a capture (tier a: unknown magic, bad
   *   pcap header, bad first pcapng section header). Exceptions thrown by the visitor propagate
   *   unchanged. Nothing else is thrown.
   */
  push(chunk: Uint8Array): void;
  /**
   * Signals the end of input and returns the summary. A record cut by the end of input becomes a
   * `truncated_final_record` warning (tier b); everything before it has been delivered.
   *
   * @throws {CaptureFormatError} on empty input or input that ends inside the file header.
   */
  end(): CaptureSummary;
  /**
   * Stops reading with a tier-b warning raised outside the parser (the gzip layer uses it for a
   * truncated or corrupt compressed stream). Later pushes are ignored.
   */
  abort(code: string, message: string): void;
}

/**
 * Creates a push parser. Format is detected from the first four bytes: pcap (µs or ns magic,
 * either byte order) or pcapng. Gzip is not handled here; see `readCapture`.
 *
 * Warnings (tier b) are delivered to `visitor.warning` and collected in the summary; a code that
 * repeats on many records (`caplen_exceeds_snaplen`, `timestamp_fraction_out_of_range`, ...) is
 * reported for its first {@link MAX_WARNINGS_PER_CODE} occurrences only, so a damaged file of
 * millions of records cannot flood memory.
 */
export function createCaptureParser(visitor: CaptureVisitor, options?: Partial<CaptureOptions>): CaptureParser {
  const core = new ParserCore(visitor, { ...DEFAULT_CAPTURE_OPTIONS, ...options });
  return {
    push: (chunk) => core.push(chunk),
    end: () => core.end(),
    abort: (code, message) => core.stop(code, message, core.consumed, undefined),
  };
}

/** Occurrences of one warning code reported before the rest are counted silently. */
export const MAX_WARNINGS_PER_CODE = 10;

/**
 * The framing of one container format (internal to the capture stage).
 *
 * A "unit" is the pcap file header, a pcap record, or a pcapng block.
 */
export interface Framer {
  readonly format: CaptureFormat;
  /** True once the file header (pcap) or the first section header (pcapng) has been read. */
  readonly headerDone: boolean;
  /**
   * Total length of the unit at `pos` when its header is readable within `avail` bytes, else the
   * number of bytes needed to read the header. Returns -1 after stopping the parser (a bad or
   * oversized length); throws {@link CaptureFormatError} for tier-a problems.
   */
  need(buf: Uint8Array, dv: DataView, pos: number, avail: number, abs: number): number;
  /**
   * Processes every complete unit in `buf[pos, end)` and returns the position of the first one
   * not processed (incomplete, or where the parser stopped). `base` is the stream offset of
   * `buf[0]`.
   */
  scan(buf: Uint8Array, dv: DataView, pos: number, end: number, base: number): number;
}

/**
 * The record the framers fill in place for every packet: they point `bytes`/`offset` at the
 * packet in their chunk, and `data` is a view made only for a visitor that asks for it.
 */
export class ReusedRecord implements CaptureRecord {
  frameNumber = 0;
  interfaceId = 0;
  linkType = 0;
  tsSec = 0;
  tsNanos = 0;
  capturedLength = 0;
  originalLength = 0;
  bytes: Uint8Array = new Uint8Array(0);
  offset = 0;
  byteOffset = 0;

  get data(): Uint8Array {
    return this.bytes.subarray(this.offset, this.offset + this.capturedLength);
  }
}

/** Mutable parser state shared with the framers. Internal to the capture stage. */
export class ParserCore {
  readonly visitor: CaptureVisitor;
  readonly maxBlockBytes: number;
  /** The one record object handed to the visitor for every packet. */
  readonly record = new ReusedRecord();
  records = 0;
  stopped = false;
  version = '';
  sections = 0;
  readonly byteOrders: ByteOrder[] = [];
  readonly interfaces: CaptureInterface[] = [];
  readonly statistics: (InterfaceStatistics | undefined)[] = [];
  readonly warnings: CaptureWarning[] = [];
  private readonly warningCounts = new Map<string, number>();

  /** Stream offset of the first byte not yet consumed by a complete unit. */
  consumed = 0;
  private pushed = 0;
  private framer: Framer | undefined;
  private carry = new Uint8Array(0);
  private carryView = new DataView(this.carry.buffer);
  private carryLen = 0;
  private ended = false;

  constructor(visitor: CaptureVisitor, options: CaptureOptions) {
    this.visitor = visitor;
    this.maxBlockBytes = options.maxBlockBytes;
  }

  /** Reports a tier-b warning and goes on. */
  warn(code: string, message: string, byteOffset: number, frameNumber: number | undefined): void {
    const seen = (this.warningCounts.get(code) ?? 0) + 1;
    this.warningCounts.set(code, seen);
    if (seen > MAX_WARNINGS_PER_CODE) return;
    const warning: CaptureWarning =
      frameNumber === undefined ? { code, message, byteOffset } : { code, message, byteOffset, frameNumber };
    this.warnings.push(warning);
    this.visitor.warning?.(warning);
  }

  /** Reports a tier-b warning and stops reading: later bytes are ignored. */
  stop(code: string, message: string, byteOffset: number, frameNumber: number | undefined): void {
    if (this.stopped) return;
    this.stopped = true;
    this.warn(code, message, byteOffset, frameNumber);
  }

  addInterface(iface: CaptureInterface): void {
    this.interfaces.push(iface);
    this.statistics.push(undefined);
    this.visitor.interface?.(iface);
  }

  push(chunk: Uint8Array): void {
    if (this.ended || chunk.length === 0) return;
    const base = this.pushed;
    this.pushed += chunk.length;
    if (this.stopped) return;
    let pos = 0;
    let framer = this.framer;
    if (framer === undefined) {
      const take = Math.min(4 - this.carryLen, chunk.length);
      this.append(chunk, 0, take);
      pos = take;
      if (this.carryLen < 4) return;
      framer = this.detect();
      this.framer = framer;
    }
    if (this.carryLen > 0) {
      pos = this.fillCarry(framer, chunk, pos);
      if (this.stopped || this.carryLen > 0) return;
    }
    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    pos = framer.scan(chunk, dv, pos, chunk.length, base);
    this.consumed = base + pos;
    if (this.stopped || pos >= chunk.length) return;
    // Check the length field of the straddling unit before buffering any of it.
    const need = framer.need(chunk, dv, pos, chunk.length - pos, base + pos);
    if (need < 0) return;
    this.reserve(need);
    this.append(chunk, pos, chunk.length);
  }

  end(): CaptureSummary {
    if (!this.ended) {
      this.ended = true;
      const framer = this.framer;
      if (framer === undefined) {
        if (this.pushed === 0) throw new CaptureFormatError('empty input: not a capture file', 0);
        throw new CaptureFormatError(`input of ${this.pushed} bytes is too short to be a capture file`, 0);
      }
      if (!this.stopped && this.carryLen > 0) {
        if (!framer.headerDone) {
          throw new CaptureFormatError(
            `input ends inside the ${framer.format === 'pcap' ? 'pcap file header' : 'first pcapng section header'}`,
            this.pushed,
          );
        }
        this.stop(
          'truncated_final_record',
          `input ends ${this.carryLen} byte(s) into a record: the capture was cut short`,
          this.consumed,
          this.records + 1,
        );
      }
    }
    const framer = this.framer;
    const statistics: InterfaceStatistics[] = [];
    for (const s of this.statistics) if (s !== undefined) statistics.push(s);
    return {
      format: framer === undefined ? 'pcap' : framer.format,
      compressed: false,
      byteOrders: [...this.byteOrders],
      version: this.version,
      sections: this.sections,
      interfaces: [...this.interfaces],
      records: this.records,
      bytesRead: this.consumed,
      statistics,
      warnings: [...this.warnings],
      stoppedEarly: this.stopped,
    };
  }

  /** Completes the unit held in the carry buffer from `chunk`; returns the new position in `chunk`. */
  private fillCarry(framer: Framer, chunk: Uint8Array, pos: number): number {
    for (;;) {
      const need = framer.need(this.carry, this.carryView, 0, this.carryLen, this.consumed);
      if (need < 0) return chunk.length;
      if (this.carryLen >= need) {
        framer.scan(this.carry, this.carryView, 0, need, this.consumed);
        if (this.stopped) return chunk.length;
        this.consumed += need;
        this.carryLen = 0;
        return pos;
      }
      if (pos >= chunk.length) return pos;
      const take = Math.min(need - this.carryLen, chunk.length - pos);
      this.reserve(need);
      this.append(chunk, pos, pos + take);
      pos += take;
    }
  }

  private detect(): Framer {
    const magic = this.carryView.getUint32(0, false);
    switch (magic) {
      case 0xa1b2c3d4:
      case 0xd4c3b2a1:
      case 0xa1b23c4d:
      case 0x4d3cb2a1:
        return new PcapFramer(this);
      case 0x0a0d0d0a:
        return new PcapngFramer(this);
      default:
        break;
    }
    if (magic >>> 16 === 0x1f8b) {
      throw new CaptureFormatError('gzip-compressed input: decompress first (readCapture does)', 0);
    }
    throw new CaptureFormatError(
      notCaptureText(magic) ?? `unknown file format (magic 0x${magic.toString(16).padStart(8, '0')}): not a pcap or pcapng capture`,
      0,
    );
  }

  /**
   * Grows the carry buffer to hold at least `size` bytes, keeping its content. Growth doubles
   * (amortised copies) but is capped at `maxBlockBytes` (`size` never exceeds it, except for a
   * file header larger than a tiny limit): uncapped, the 4 KiB floor and the doubling let the
   * buffer reach twice the limit (found by the fuzzer with a small `maxBlockBytes`; see
   * test/fuzz/capture-fuzz.test.ts).
   */
  private reserve(size: number): void {
    if (this.carry.length >= size) return;
    const grown = new Uint8Array(Math.max(size, Math.min(Math.max(this.carry.length * 2, 4096), this.maxBlockBytes)));
    grown.set(this.carry.subarray(0, this.carryLen));
    this.carry = grown;
    this.carryView = new DataView(grown.buffer);
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    this.reserve(this.carryLen + (to - from));
    this.carry.set(chunk.subarray(from, to), this.carryLen);
    this.carryLen += to - from;
  }
}

/**
 * What a file that is not a capture is, from its first four bytes, and what to do with it: the
 * archives and compressors a ticket's attachment comes in (gzip alone is read directly, see
 * readCapture), other capture formats, and text (a JSON result, tcpdump's printed output).
 * Undefined when the bytes say nothing known.
 */
export function notCaptureText(magic: number): string | undefined {
  const hint = (what: string, todo: string): string => `${what}, not a pcap or pcapng capture: ${todo}`;
  if (magic === 0x504b0304) return hint('a ZIP archive', 'extract the capture from it first (unzip)');
  if (magic === 0x377abcaf) return hint('a 7-Zip archive', 'extract the capture from it first (7z x)');
  if (magic === 0x52617221) return hint('a RAR archive', 'extract the capture from it first (unrar x)');
  if (magic === 0xfd377a58) return hint('xz-compressed data', 'decompress it first (unxz), or pipe it: xzcat FILE | tcpmortem report -');
  if (magic === 0x28b52ffd) return hint('zstd-compressed data', 'decompress it first (unzstd), or pipe it: zstdcat FILE | tcpmortem report -');
  if (magic >>> 8 === 0x425a68) return hint('bzip2-compressed data', 'decompress it first (bunzip2), or pipe it: bzcat FILE | tcpmortem report -');
  if (magic === 0x736e6f6f) return hint('a snoop capture', 'convert it first (editcap -F pcap FILE OUT.pcap)');
  if (magic === 0x474d4255) return hint('a Network Monitor capture', 'convert it first (editcap -F pcapng FILE OUT.pcapng)');
  const bytes = [magic >>> 24, (magic >>> 16) & 0xff, (magic >>> 8) & 0xff, magic & 0xff];
  const first = bytes.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
  if (first === 0x7b || first === 0x5b) return hint('a JSON document', 'a saved tcpmortem result renders with tcpmortem render FILE');
  if (bytes.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d)) {
    return hint('text', "tcpdump -w FILE writes a capture; its printed output cannot be analysed");
  }
  return undefined;
}
