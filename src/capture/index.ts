/**
 * Capture stage: pcap / pcapng / gzip bytes in, {@link CaptureRecord}s out; plus our own pcap and
 * pcapng writers for tests, fixtures and the benchmark.
 *
 * @module
 */

export type {
  ByteOrder,
  CaptureFormat,
  CaptureInterface,
  CaptureOptions,
  CaptureRecord,
  CaptureSummary,
  CaptureVisitor,
  CaptureWarning,
  InterfaceStatistics,
} from './types.ts';
export { CaptureFormatError, DEFAULT_CAPTURE_OPTIONS } from './types.ts';
export { createCaptureParser, MAX_WARNINGS_PER_CODE, type CaptureParser } from './parser.ts';
export { readCapture } from './read-capture.ts';
export {
  PcapWriter,
  PcapngWriter,
  type PacketInput,
  type PcapWriterOptions,
  type PcapngInterfaceOptions,
  type PcapngSectionOptions,
  type PcapngStatisticsInput,
  type Timestamp,
} from './writer.ts';
