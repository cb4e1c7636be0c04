/**
 * Boundary types of the capture stage: bytes in, {@link CaptureRecord}s out.
 *
 * The capture stage knows file formats (pcap, pcapng, gzip around either) and nothing about
 * protocols. It never allocates per record: the parser hands the same {@link CaptureRecord}
 * object to its visitor for every record, with `data` a view into its own buffer.
 */

/** Container format of a capture, detected from its magic number, never from the file name. */
export type CaptureFormat = 'pcap' | 'pcapng';

/** Byte order of a pcap file or of one pcapng section. */
export type ByteOrder = 'little-endian' | 'big-endian';

/**
 * One capture interface. For classic pcap there is exactly one (id 0). For pcapng, interfaces of
 * every section are numbered globally in the order their Interface Description Blocks appear, so
 * `interfaceId` is unique across sections (section 0's interfaces first, then section 1's, ...).
 */
export interface CaptureInterface {
  /** Global interface number (see above). */
  readonly interfaceId: number;
  /** 0-based pcapng section number; 0 for pcap. */
  readonly section: number;
  /** LINKTYPE_* value (1 Ethernet, 113 Linux SLL, 276 SLL2, 0 BSD NULL, 101 raw IP, ...). */
  readonly linkType: number;
  /** Snapshot length in bytes; 0 means "no limit" in pcapng. */
  readonly snapLength: number;
  /** Timestamp units per second (1e6 for µs, 1e9 for ns, 2^k for binary `if_tsresol`). */
  readonly tsUnitsPerSecond: number;
  /** Digits after the decimal point the source can express (6 for µs, 9 for ns); used for ISO output. */
  readonly tsPrecisionDigits: number;
  /** `if_tsoffset` in seconds (pcapng), 0 otherwise. */
  readonly tsOffsetSeconds: number;
  /** `if_name` when present. */
  readonly name?: string;
  /** `if_description` when present. */
  readonly description?: string;
}

/**
 * One packet record, as the parser hands it to {@link CaptureVisitor.record}.
 *
 * Ownership and lifetime: the object and the bytes `bytes` holds are reused; they are valid only
 * during the `record` callback. Copy out numbers, never keep `bytes` or `data`.
 *
 * Timestamps: nanoseconds since the epoch do not fit a JavaScript number exactly (2^53 ns is only
 * 104 days), so a timestamp is split into whole seconds since the epoch (`tsSec`, exact as a
 * number until the year 285 million) and nanoseconds within that second (`tsNanos`, 0..999999999).
 * Sub-nanosecond resolutions (pcapng `if_tsresol` finer than 1e-9) are truncated to nanoseconds.
 */
export interface CaptureRecord {
  /** 1-based frame number over the whole capture, as Wireshark numbers frames. */
  frameNumber: number;
  /** Global interface id (see {@link CaptureInterface.interfaceId}). */
  interfaceId: number;
  /** Link type of that interface. */
  linkType: number;
  /** Whole seconds since 1970-01-01T00:00:00Z. */
  tsSec: number;
  /** Nanoseconds within `tsSec`, 0..999 999 999. */
  tsNanos: number;
  /** Bytes present in `data` (pcap incl_len, pcapng captured length). */
  capturedLength: number;
  /** Bytes the packet had on the wire (pcap orig_len, pcapng original length). */
  originalLength: number;
  /**
   * The buffer the packet's bytes are in, from `offset` to `offset + capturedLength` (the
   * parser's chunk: no object per record). The hot path reads them there (see decodeFrame).
   */
  readonly bytes: Uint8Array;
  /** Where the packet's bytes start in `bytes`. */
  readonly offset: number;
  /**
   * The packet bytes as a view of length `capturedLength`, made when asked for (one object per
   * call); valid until the callback returns.
   */
  readonly data: Uint8Array;
  /** Byte offset of the record (pcap record header or pcapng block) in the decompressed stream. */
  byteOffset: number;
}

/** pcapng Interface Statistics Block figures, as the capturing program reported them. */
export interface InterfaceStatistics {
  readonly interfaceId: number;
  /** `isb_ifrecv`: packets received by the interface, when present. */
  readonly received?: number;
  /** `isb_ifdrop`: packets dropped by the interface (NIC / kernel ring) because of lack of resources. */
  readonly interfaceDrops?: number;
  /** `isb_osdrop`: packets dropped by the operating system (e.g. the capture buffer was full). */
  readonly osDrops?: number;
  /** `isb_filteraccept`, when present. */
  readonly filterAccepted?: number;
  /** `isb_usrdeliv`, when present. */
  readonly deliveredToUser?: number;
}

/** A record-level problem (tier b): the parser stopped or skipped there; everything before is kept. */
export interface CaptureWarning {
  /** Stable snake_case code, e.g. `truncated_final_record`, `bad_block_length`, `caplen_exceeds_snaplen`. */
  readonly code: string;
  /** One human sentence. */
  readonly message: string;
  /** Byte offset in the (decompressed) stream where the problem starts. */
  readonly byteOffset: number;
  /** 1-based frame number of the record concerned, when there is one. */
  readonly frameNumber?: number;
}

/** Callbacks of the push parser. Called synchronously from `push`/`end`, in file order. */
export interface CaptureVisitor {
  /** Called once per packet record. See {@link CaptureRecord} for the lifetime of its argument. */
  record(record: CaptureRecord): void;
  /** Called when an interface is declared (pcap: once, before the first record). */
  interface?(iface: CaptureInterface): void;
  /** Called for each pcapng Interface Statistics Block. */
  statistics?(stats: InterfaceStatistics): void;
  /** Called for each record-level problem. */
  warning?(warning: CaptureWarning): void;
  /** Called for each `opt_comment` on a section or packet (pcapng). */
  comment?(text: string, frameNumber: number | undefined): void;
}

/** What the capture stage knows once input is over. */
export interface CaptureSummary {
  readonly format: CaptureFormat;
  /** True when the input was gzip-compressed. */
  readonly compressed: boolean;
  /** Byte order of the pcap file, or of each pcapng section in order. */
  readonly byteOrders: readonly ByteOrder[];
  /** pcap: "2.4"; pcapng: the first section's "1.0". */
  readonly version: string;
  readonly sections: number;
  readonly interfaces: readonly CaptureInterface[];
  /** Every packet record read (EPB, SPB, obsolete PB, pcap records). */
  readonly records: number;
  /** Bytes of the decompressed stream consumed. */
  readonly bytesRead: number;
  /** Last statistics block per interface id (pcapng), in interface order. */
  readonly statistics: readonly InterfaceStatistics[];
  readonly warnings: readonly CaptureWarning[];
  /** True when the parser stopped before the end of the input (a tier-b problem). */
  readonly stoppedEarly: boolean;
}

/** Options of the capture reader. Defaults live in {@link DEFAULT_CAPTURE_OPTIONS}. */
export interface CaptureOptions {
  /** Largest record or block accepted, in bytes; a larger one stops reading with a warning. Default 256 MiB. */
  readonly maxBlockBytes: number;
}

export const DEFAULT_CAPTURE_OPTIONS: Readonly<CaptureOptions> = Object.freeze({
  maxBlockBytes: 256 * 1024 * 1024,
});

/**
 * Tier-a error: the input is not a capture we can read at all (unknown magic, bad section header,
 * an empty file). Carries the byte offset where reading failed. The CLI prints
 * `tcpmortem: FILE: MESSAGE (at byte N)` and exits 2.
 */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';
  constructor(
    message: string,
    /** Byte offset in the (decompressed) stream. */
    readonly byteOffset: number,
  ) {
    super(message);
  }
}
