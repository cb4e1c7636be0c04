/**
 * pcapng framing (draft-ietf-opsawg-pcapng): a sequence of blocks `type, total length, body,
 * total length`, grouped in sections that each start with a Section Header Block (SHB) carrying
 * their own byte order. Interfaces are declared per section by Interface Description Blocks
 * (IDB); packets come in Enhanced (EPB), Simple (SPB) or obsolete Packet Blocks (PB).
 *
 * @module
 */

import { CaptureFormatError, type CaptureInterface, type InterfaceStatistics } from './types.ts';
import type { Framer, ParserCore } from './parser.ts';
import { createTimestampScale, precisionDigits, setTimestamp, type TimestampScale } from './timestamp.ts';

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_PB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_ISB = 0x00000005;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const ISB_IFRECV = 4;
const ISB_IFDROP = 5;
const ISB_FILTERACCEPT = 6;
const ISB_OSDROP = 7;
const ISB_USRDELIV = 8;

/** Smallest legal total length per block type (header, fixed fields, trailer). */
const MIN_SHB_BYTES = 28;
const MIN_IDB_BYTES = 20;
const MIN_SPB_BYTES = 16;
const MIN_ISB_BYTES = 24;
const MIN_EPB_BYTES = 32;

const TWO_32 = 4294967296;
/** Largest |seconds since the epoch| an ECMAScript Date (hence an ISO 8601 string) can hold: 8.64e15 ms. */
const MAX_TS_SEC = 8_640_000_000_000;
const utf8 = new TextDecoder('utf-8');

/** Option values collected by {@link PcapngFramer.readOptions}; reset on every call. */
interface OptionScratch {
  name: string | undefined;
  description: string | undefined;
  tsresolBase: 10 | 2;
  tsresolExponent: number;
  tsOffsetSeconds: number;
  received: number | undefined;
  interfaceDrops: number | undefined;
  filterAccepted: number | undefined;
  osDrops: number | undefined;
  deliveredToUser: number | undefined;
}

/** Framer of pcapng files. See {@link Framer}. */
export class PcapngFramer implements Framer {
  readonly format = 'pcapng' as const;
  headerDone = false;
  private readonly core: ParserCore;
  /** Byte order of the current section. */
  private littleEndian = true;
  /** Global id of the current section's interface 0. */
  private sectionInterfaceBase = 0;
  private sectionInterfaceCount = 0;
  /** Per global interface id. */
  private readonly scales: TimestampScale[] = [];
  private readonly snapLengths: number[] = [];
  private readonly linkTypes: number[] = [];
  private readonly options: OptionScratch = {
    name: undefined,
    description: undefined,
    tsresolBase: 10,
    tsresolExponent: 6,
    tsOffsetSeconds: 0,
    received: undefined,
    interfaceDrops: undefined,
    filterAccepted: undefined,
    osDrops: undefined,
    deliveredToUser: undefined,
  };

  constructor(core: ParserCore) {
    this.core = core;
  }

  need(_buf: Uint8Array, dv: DataView, pos: number, avail: number, abs: number): number {
    if (avail < 8) return 8;
    let le = this.littleEndian;
    const type = dv.getUint32(pos, le);
    if (type === BLOCK_SHB) {
      // The SHB type is a palindrome, so it is recognisable before its byte order is known.
      if (avail < 12) return 12;
      const magic = dv.getUint32(pos + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (magic === BYTE_ORDER_MAGIC_SWAPPED) le = false;
      else {
        this.fail(
          'bad_byte_order_magic',
          `section header byte-order magic 0x${magic.toString(16).padStart(8, '0')} is not 0x1a2b3c4d in either byte order`,
          abs,
          abs + 8,
          undefined,
        );
        return -1;
      }
    }
    const length = dv.getUint32(pos + 4, le);
    const minimum = type === BLOCK_SHB ? MIN_SHB_BYTES : 12;
    if (length < minimum || (length & 3) !== 0) {
      this.fail(
        'bad_block_length',
        `block total length ${length} is ${length < minimum ? `below the minimum of ${minimum}` : 'not a multiple of 4'}`,
        abs,
        abs + 4,
        this.frameOf(type),
      );
      return -1;
    }
    if (length > this.core.maxBlockBytes) {
      this.fail(
        'block_too_large',
        `block total length ${length} exceeds the ${this.core.maxBlockBytes}-byte limit: damaged file`,
        abs,
        abs + 4,
        this.frameOf(type),
      );
      return -1;
    }
    return length;
  }

  scan(buf: Uint8Array, dv: DataView, pos: number, end: number, base: number): number {
    const core = this.core;
    const maxBlockBytes = core.maxBlockBytes;
    while (end - pos >= 12) {
      // Fast path for the block that makes up almost every file: a well-formed EPB in the current
      // byte order. Anything else (SHB, bad lengths, other types) takes the general path below.
      const le = this.littleEndian;
      const length = dv.getUint32(pos + 4, le);
      if (
        dv.getUint32(pos, le) === BLOCK_EPB &&
        length >= MIN_EPB_BYTES &&
        (length & 3) === 0 &&
        length <= maxBlockBytes
      ) {
        if (length > end - pos) break;
        if (dv.getUint32(pos + length - 4, le) === length) {
          this.packet(buf, dv, pos, length, base + pos, dv.getUint32(pos + 8, le));
          if (core.stopped) return pos;
          pos += length;
          continue;
        }
      }
      const blockLength = this.need(buf, dv, pos, end - pos, base + pos);
      if (blockLength < 0) return pos;
      if (blockLength > end - pos) break;
      this.block(buf, dv, pos, blockLength, base + pos);
      if (core.stopped) return pos;
      pos += blockLength;
    }
    return pos;
  }

  /** Frame number a packet block at the current position would get, for warnings. */
  private frameOf(type: number): number | undefined {
    return type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_PB ? this.core.records + 1 : undefined;
  }

  /**
   * Tier a before the first section header has been read (the input is not a usable pcapng),
   * tier b (stop, keep what was read) after it.
   */
  private fail(code: string, message: string, blockOffset: number, fieldOffset: number, frame: number | undefined): void {
    if (!this.headerDone) throw new CaptureFormatError(message, fieldOffset);
    this.core.stop(code, message, blockOffset, frame);
  }

  private block(buf: Uint8Array, dv: DataView, pos: number, length: number, abs: number): void {
    const typeLe = dv.getUint32(pos, true);
    if (typeLe === BLOCK_SHB) {
      this.sectionHeader(buf, dv, pos, length, abs);
      return;
    }
    const le = this.littleEndian;
    const trailer = dv.getUint32(pos + length - 4, le);
    const type = dv.getUint32(pos, le);
    if (trailer !== length) {
      this.fail(
        'bad_block_length',
        `block total length in header ${length} and trailer ${trailer} don't match`,
        abs,
        abs + length - 4,
        this.frameOf(type),
      );
      return;
    }
    switch (type) {
      case BLOCK_EPB:
        this.packet(buf, dv, pos, length, abs, dv.getUint32(pos + 8, le));
        return;
      case BLOCK_SPB:
        this.simplePacket(buf, dv, pos, length, abs);
        return;
      case BLOCK_PB:
        this.packet(buf, dv, pos, length, abs, dv.getUint16(pos + 8, le));
        return;
      case BLOCK_IDB:
        this.interfaceDescription(buf, dv, pos, length, abs);
        return;
      case BLOCK_ISB:
        this.interfaceStatistics(buf, dv, pos, length, abs);
        return;
      default:
        // Name resolution, decryption secrets, custom and unknown blocks: skipped by length.
        return;
    }
  }

  private sectionHeader(buf: Uint8Array, dv: DataView, pos: number, length: number, abs: number): void {
    const le = dv.getUint32(pos + 8, true) === BYTE_ORDER_MAGIC;
    const trailer = dv.getUint32(pos + length - 4, le);
    if (trailer !== length) {
      this.fail(
        'bad_block_length',
        `block total length in header ${length} and trailer ${trailer} don't match`,
        abs,
        abs + length - 4,
        undefined,
      );
      return;
    }
    const major = dv.getUint16(pos + 12, le);
    const minor = dv.getUint16(pos + 14, le);
    if (major !== 1) {
      this.fail(
        'unsupported_section_version',
        `unsupported pcapng section version ${major}.${minor}`,
        abs,
        abs + 12,
        undefined,
      );
      return;
    }
    const core = this.core;
    if (!this.headerDone) core.version = `${major}.${minor}`;
    this.headerDone = true;
    this.littleEndian = le;
    core.sections++;
    core.byteOrders.push(le ? 'little-endian' : 'big-endian');
    this.sectionInterfaceBase = core.interfaces.length;
    this.sectionInterfaceCount = 0;
    this.readOptions(buf, dv, pos + 24, pos + length - 4, abs, BLOCK_SHB, undefined);
  }

  private interfaceDescription(buf: Uint8Array, dv: DataView, pos: number, length: number, abs: number): void {
    const core = this.core;
    if (length < MIN_IDB_BYTES) {
      core.warn('malformed_block', `interface description block of ${length} bytes is too short; skipped`, abs, undefined);
      return;
    }
    const le = this.littleEndian;
    const linkType = dv.getUint16(pos + 8, le);
    const snapLength = dv.getUint32(pos + 12, le);
    const o = this.readOptions(buf, dv, pos + 16, pos + length - 4, abs, BLOCK_IDB, undefined);
    const interfaceId = core.interfaces.length;
    const base: CaptureInterface = {
      interfaceId,
      section: core.sections - 1,
      linkType,
      snapLength,
      tsUnitsPerSecond: o.tsresolBase === 10 ? 10 ** o.tsresolExponent : 2 ** o.tsresolExponent,
      tsPrecisionDigits: precisionDigits(o.tsresolBase, o.tsresolExponent),
      tsOffsetSeconds: o.tsOffsetSeconds,
    };
    let iface: CaptureInterface = base;
    if (o.name !== undefined) iface = { ...iface, name: o.name };
    if (o.description !== undefined) iface = { ...iface, description: o.description };
    this.scales.push(createTimestampScale(o.tsresolBase, o.tsresolExponent, o.tsOffsetSeconds));
    this.snapLengths.push(snapLength === 0 ? Infinity : snapLength);
    this.linkTypes.push(linkType);
    this.sectionInterfaceCount++;
    core.addInterface(iface);
  }

  /** Enhanced Packet Block and obsolete Packet Block: same layout after the interface id. */
  private packet(buf: Uint8Array, dv: DataView, pos: number, length: number, abs: number, localId: number): void {
    const core = this.core;
    const frameNumber = core.records + 1;
    if (length < MIN_EPB_BYTES) {
      core.warn('malformed_block', `packet block of ${length} bytes is too short; skipped`, abs, frameNumber);
      return;
    }
    if (localId >= this.sectionInterfaceCount) {
      core.warn(
        'unknown_interface',
        `packet block names interface ${localId}, but its section declares ${this.sectionInterfaceCount}; skipped`,
        abs,
        frameNumber,
      );
      return;
    }
    const le = this.littleEndian;
    const capturedLength = dv.getUint32(pos + 20, le);
    if (capturedLength > length - MIN_EPB_BYTES) {
      core.warn(
        'malformed_block',
        `packet block of ${length} bytes claims ${capturedLength} captured bytes; skipped`,
        abs,
        frameNumber,
      );
      return;
    }
    const interfaceId = this.sectionInterfaceBase + localId;
    const snapLength = this.snapLengths[interfaceId] ?? Infinity;
    if (capturedLength > snapLength) {
      core.warn(
        'caplen_exceeds_snaplen',
        `packet captured length ${capturedLength} exceeds the interface snapshot length ${snapLength}; record kept`,
        abs,
        frameNumber,
      );
    }
    const record = core.record;
    core.records = frameNumber;
    record.frameNumber = frameNumber;
    record.interfaceId = interfaceId;
    record.linkType = this.linkTypes[interfaceId] ?? 0;
    const previousSec = record.tsSec;
    const previousNanos = record.tsNanos;
    setTimestamp(record, dv.getUint32(pos + 12, le), dv.getUint32(pos + 16, le), this.scales[interfaceId]!);
    if (record.tsSec > MAX_TS_SEC || record.tsSec < -MAX_TS_SEC) {
      // A 64-bit count at a coarse resolution, or a large if_tsoffset, can name a second no date
      // can express (past the year 275760); every later stage formats times as ISO 8601 and would
      // throw. Such a record is damaged: keep the previous record's time, as for an SPB, and say so
      // (found by the fuzzer: fixtures/regressions/pcapng-timestamp-out-of-range.pcapng).
      core.warn(
        'timestamp_out_of_range',
        `packet timestamp ${record.tsSec} s is outside the range of dates; the previous record's time is used`,
        abs,
        frameNumber,
      );
      record.tsSec = previousSec;
      record.tsNanos = previousNanos;
    }
    record.capturedLength = capturedLength;
    record.originalLength = dv.getUint32(pos + 24, le);
    record.byteOffset = abs;
    record.bytes = buf;
    record.offset = pos + 28;
    core.visitor.record(record);
    const optionsStart = pos + 28 + ((capturedLength + 3) & ~3);
    // Options are read only when someone listens: packets rarely carry any worth the time.
    if (optionsStart < pos + length - 4 && core.visitor.comment !== undefined) {
      this.readOptions(buf, dv, optionsStart, pos + length - 4, abs, BLOCK_EPB, frameNumber);
    }
  }

  /**
   * Simple Packet Block: no interface id (always the section's first interface) and no
   * timestamp. Its captured length is min(original length, snaplen of that interface), as the
   * spec says, and never more than the block holds. It keeps the timestamp of the previous
   * record (0 before any), so packet time never jumps back to 1970 in the middle of a capture.
   */
  private simplePacket(buf: Uint8Array, dv: DataView, pos: number, length: number, abs: number): void {
    const core = this.core;
    const frameNumber = core.records + 1;
    if (length < MIN_SPB_BYTES) {
      core.warn('malformed_block', `simple packet block of ${length} bytes is too short; skipped`, abs, frameNumber);
      return;
    }
    if (this.sectionInterfaceCount === 0) {
      core.warn(
        'unknown_interface',
        'simple packet block in a section that declares no interface; skipped',
        abs,
        frameNumber,
      );
      return;
    }
    const interfaceId = this.sectionInterfaceBase;
    const originalLength = dv.getUint32(pos + 8, this.littleEndian);
    const capturedLength = Math.min(originalLength, this.snapLengths[interfaceId] ?? Infinity, length - MIN_SPB_BYTES);
    const record = core.record;
    core.records = frameNumber;
    record.frameNumber = frameNumber;
    record.interfaceId = interfaceId;
    record.linkType = this.linkTypes[interfaceId] ?? 0;
    record.capturedLength = capturedLength;
    record.originalLength = originalLength;
    record.byteOffset = abs;
    record.bytes = buf;
    record.offset = pos + 12;
    core.visitor.record(record);
  }

  private interfaceStatistics(buf: Uint8Array, dv: DataView, pos: number, length: number, abs: number): void {
    const core = this.core;
    if (length < MIN_ISB_BYTES) {
      core.warn('malformed_block', `interface statistics block of ${length} bytes is too short; skipped`, abs, undefined);
      return;
    }
    const localId = dv.getUint32(pos + 8, this.littleEndian);
    if (localId >= this.sectionInterfaceCount) {
      core.warn(
        'unknown_interface',
        `statistics block names interface ${localId}, but its section declares ${this.sectionInterfaceCount}; skipped`,
        abs,
        undefined,
      );
      return;
    }
    const o = this.readOptions(buf, dv, pos + 20, pos + length - 4, abs, BLOCK_ISB, undefined);
    const interfaceId = this.sectionInterfaceBase + localId;
    const stats: { -readonly [K in keyof InterfaceStatistics]: InterfaceStatistics[K] } = { interfaceId };
    if (o.received !== undefined) stats.received = o.received;
    if (o.interfaceDrops !== undefined) stats.interfaceDrops = o.interfaceDrops;
    if (o.osDrops !== undefined) stats.osDrops = o.osDrops;
    if (o.filterAccepted !== undefined) stats.filterAccepted = o.filterAccepted;
    if (o.deliveredToUser !== undefined) stats.deliveredToUser = o.deliveredToUser;
    core.statistics[interfaceId] = stats;
    core.visitor.statistics?.(stats);
  }

  /**
   * Reads the options in `[pos, end)` of a block of type `block` into the scratch object and
   * reports comments. An option that runs past its block ends the option list with an
   * `option_overrun` warning; the block itself is kept.
   */
  private readOptions(
    buf: Uint8Array,
    dv: DataView,
    pos: number,
    end: number,
    abs: number,
    block: number,
    frameNumber: number | undefined,
  ): OptionScratch {
    const o = this.options;
    o.name = undefined;
    o.description = undefined;
    o.tsresolBase = 10;
    o.tsresolExponent = 6;
    o.tsOffsetSeconds = 0;
    o.received = undefined;
    o.interfaceDrops = undefined;
    o.filterAccepted = undefined;
    o.osDrops = undefined;
    o.deliveredToUser = undefined;
    const le = this.littleEndian;
    const visitor = this.core.visitor;
    while (end - pos >= 4) {
      const code = dv.getUint16(pos, le);
      const length = dv.getUint16(pos + 2, le);
      if (code === OPT_ENDOFOPT) break;
      const value = pos + 4;
      if (length > end - value) {
        this.core.warn(
          'option_overrun',
          `option ${code} of ${length} bytes runs past the end of its block; remaining options ignored`,
          abs,
          frameNumber,
        );
        break;
      }
      if (code === OPT_COMMENT) {
        visitor.comment?.(utf8.decode(buf.subarray(value, value + length)), frameNumber);
      } else if (block === BLOCK_IDB) {
        if (code === IF_NAME) o.name = utf8.decode(buf.subarray(value, value + length));
        else if (code === IF_DESCRIPTION) o.description = utf8.decode(buf.subarray(value, value + length));
        else if (code === IF_TSRESOL && length >= 1) {
          const v = dv.getUint8(value);
          o.tsresolBase = (v & 0x80) !== 0 ? 2 : 10;
          o.tsresolExponent = v & 0x7f;
        } else if (code === IF_TSOFFSET && length >= 8) {
          o.tsOffsetSeconds = le
            ? dv.getInt32(value + 4, true) * TWO_32 + dv.getUint32(value, true)
            : dv.getInt32(value, false) * TWO_32 + dv.getUint32(value + 4, false);
        }
      } else if (block === BLOCK_ISB && length >= 8 && code >= ISB_IFRECV && code <= ISB_USRDELIV) {
        // 64-bit counters; exact up to 2^53 packets, which no capture reaches.
        const counter = le
          ? dv.getUint32(value + 4, true) * TWO_32 + dv.getUint32(value, true)
          : dv.getUint32(value, false) * TWO_32 + dv.getUint32(value + 4, false);
        if (code === ISB_IFRECV) o.received = counter;
        else if (code === ISB_IFDROP) o.interfaceDrops = counter;
        else if (code === ISB_FILTERACCEPT) o.filterAccepted = counter;
        else if (code === ISB_OSDROP) o.osDrops = counter;
        else o.deliveredToUser = counter;
      }
      pos = value + ((length + 3) & ~3);
    }
    return o;
  }
}
