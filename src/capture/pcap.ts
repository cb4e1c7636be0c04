/**
 * Classic pcap framing (libpcap savefile, version 2.4): a 24-byte file header, then records of a
 * 16-byte header and `incl_len` packet bytes. The magic decides the byte order and whether the
 * second timestamp field counts microseconds (0xa1b2c3d4) or nanoseconds (0xa1b23c4d).
 *
 * @module
 */

import { CaptureFormatError } from './types.ts';
import type { Framer, ParserCore } from './parser.ts';

const FILE_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
/**
 * Bits 16-25 of the link-type field are reserved and must be zero (libpcap rejects the file
 * otherwise). Bits 26-31 carry the FCS-length information and are masked off; bits 0-15 are the
 * LINKTYPE_* value.
 */
const LINKTYPE_RESERVED_MASK = 0x03ff0000;
const LINKTYPE_MASK = 0x0000ffff;

/**
 * True when the 16 bytes at `pos` start a pcap file header (magic in either byte order, then
 * version 2.x in that byte order) rather than a record header.
 */
function isPcapFileHeader(dv: DataView, pos: number): boolean {
  const magic = dv.getUint32(pos, false);
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) return dv.getUint16(pos + 4, false) === 2;
  if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) return dv.getUint16(pos + 4, true) === 2;
  return false;
}

/** Framer of classic pcap files. See {@link Framer}. */
export class PcapFramer implements Framer {
  readonly format = 'pcap' as const;
  headerDone = false;
  private littleEndian = true;
  private unitsPerSecond = 1e6;
  private nanosPerUnit = 1000;
  /** Snapshot length; records longer than this are kept with a warning. Infinity when 0. */
  private snapLength = Infinity;
  private readonly core: ParserCore;

  constructor(core: ParserCore) {
    this.core = core;
  }

  need(_buf: Uint8Array, dv: DataView, pos: number, avail: number, abs: number): number {
    if (!this.headerDone) return FILE_HEADER_BYTES;
    if (avail < RECORD_HEADER_BYTES) return RECORD_HEADER_BYTES;
    // The same concatenated-file check as `scan`, before buffering: otherwise a second file header
    // whose bytes 8-11 read as a plausible length is reported as `unexpected_file_header` when the
    // input arrives in one chunk but as `truncated_final_record` when it straddles a chunk
    // boundary (found by the fuzzer: fixtures/regressions/pcap-second-header-straddles-chunk.pcap).
    if (isPcapFileHeader(dv, pos)) {
      this.stopUnexpectedHeader(abs);
      return -1;
    }
    const capturedLength = dv.getUint32(pos + 8, this.littleEndian);
    if (capturedLength > this.core.maxBlockBytes - RECORD_HEADER_BYTES) {
      this.stopTooLarge(capturedLength, abs);
      return -1;
    }
    return RECORD_HEADER_BYTES + capturedLength;
  }

  scan(buf: Uint8Array, dv: DataView, pos: number, end: number, base: number): number {
    if (!this.headerDone) {
      if (end - pos < FILE_HEADER_BYTES) return pos;
      this.readFileHeader(dv, pos);
      pos += FILE_HEADER_BYTES;
    }
    // The hot loop: keep everything in locals, touch the shared record object only.
    const core = this.core;
    const visitor = core.visitor;
    const record = core.record;
    const le = this.littleEndian;
    const unitsPerSecond = this.unitsPerSecond;
    const nanosPerUnit = this.nanosPerUnit;
    const snapLength = this.snapLength;
    const maxCaptured = core.maxBlockBytes - RECORD_HEADER_BYTES;
    while (end - pos >= RECORD_HEADER_BYTES) {
      let tsSec = dv.getUint32(pos, le);
      // Every pcap magic, read as a seconds field in either byte order, is >= 0x4d3cb2a1 (2011),
      // so this one comparison keeps the check for a concatenated second file off the hot path.
      if (tsSec >= 0x4d3cb2a1 && isPcapFileHeader(dv, pos)) {
        this.stopUnexpectedHeader(base + pos);
        return pos;
      }
      const capturedLength = dv.getUint32(pos + 8, le);
      if (capturedLength > maxCaptured) {
        this.stopTooLarge(capturedLength, base + pos);
        return pos;
      }
      const next = pos + RECORD_HEADER_BYTES + capturedLength;
      if (next > end) break;
      const frameNumber = ++core.records;
      let fraction = dv.getUint32(pos + 4, le);
      if (fraction >= unitsPerSecond) {
        // Seen in edited files (tcpdump's timestamp_invalid_nano.pcap): carry the excess into the
        // seconds so tsNanos keeps its 0..999999999 contract, and say so.
        core.warn(
          'timestamp_fraction_out_of_range',
          `timestamp fraction ${fraction} is not below ${unitsPerSecond}`,
          base + pos,
          frameNumber,
        );
        tsSec += Math.floor(fraction / unitsPerSecond);
        fraction %= unitsPerSecond;
      }
      if (capturedLength > snapLength) {
        core.warn(
          'caplen_exceeds_snaplen',
          `record captured length ${capturedLength} exceeds the snapshot length ${snapLength}; record kept`,
          base + pos,
          frameNumber,
        );
      }
      record.frameNumber = frameNumber;
      record.tsSec = tsSec;
      record.tsNanos = fraction * nanosPerUnit;
      record.capturedLength = capturedLength;
      record.originalLength = dv.getUint32(pos + 12, le);
      record.byteOffset = base + pos;
      // Where the bytes are, not a view of them: no object per record.
      record.bytes = buf;
      record.offset = pos + RECORD_HEADER_BYTES;
      visitor.record(record);
      pos = next;
    }
    return pos;
  }

  private stopUnexpectedHeader(abs: number): void {
    this.core.stop(
      'unexpected_file_header',
      'a second pcap file header in the middle of the file (concatenated captures?): reading stops here',
      abs,
      this.core.records + 1,
    );
  }

  private stopTooLarge(capturedLength: number, abs: number): void {
    this.core.stop(
      'record_too_large',
      `record header claims ${capturedLength} captured bytes, more than the ${this.core.maxBlockBytes}-byte limit: damaged file`,
      abs,
      this.core.records + 1,
    );
  }

  private readFileHeader(dv: DataView, pos: number): void {
    const magic = dv.getUint32(pos, false);
    const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
    const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
    const major = dv.getUint16(pos + 4, le);
    const minor = dv.getUint16(pos + 6, le);
    if (major !== 2) {
      throw new CaptureFormatError(`unsupported pcap version ${major}.${minor}`, pos + 4);
    }
    const snapLength = dv.getUint32(pos + 16, le);
    const linkTypeField = dv.getUint32(pos + 20, le);
    if ((linkTypeField & LINKTYPE_RESERVED_MASK) !== 0) {
      throw new CaptureFormatError(
        `pcap link-type reserved field not zero (0x${(linkTypeField & LINKTYPE_RESERVED_MASK).toString(16).padStart(8, '0')})`,
        pos + 20,
      );
    }
    this.littleEndian = le;
    this.unitsPerSecond = nanos ? 1e9 : 1e6;
    this.nanosPerUnit = nanos ? 1 : 1000;
    this.snapLength = snapLength === 0 ? Infinity : snapLength;
    this.headerDone = true;
    const core = this.core;
    core.version = `${major}.${minor}`;
    core.sections = 1;
    core.byteOrders.push(le ? 'little-endian' : 'big-endian');
    const linkType = linkTypeField & LINKTYPE_MASK;
    core.record.interfaceId = 0;
    core.record.linkType = linkType;
    core.addInterface({
      interfaceId: 0,
      section: 0,
      linkType,
      snapLength,
      tsUnitsPerSecond: this.unitsPerSecond,
      tsPrecisionDigits: nanos ? 9 : 6,
      tsOffsetSeconds: 0,
    });
  }
}
