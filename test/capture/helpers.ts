/** Shared helpers of the capture tests: read bytes in chosen chunk sizes and serialise what the parser reported. */
import { createCaptureParser, type CaptureOptions, type CaptureSummary } from '../../src/capture/index.ts';

/** One record as plain data (the parser's record object is reused, so it must be copied out). */
export interface RecordCopy {
  frameNumber: number;
  interfaceId: number;
  linkType: number;
  tsSec: number;
  tsNanos: number;
  capturedLength: number;
  originalLength: number;
  byteOffset: number;
  hex: string;
}

/** Everything a visitor saw, in call order, plus the summary. */
export interface ReadResult {
  records: RecordCopy[];
  events: string[];
  summary: CaptureSummary;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Splits `bytes` into chunks of `size` (copies, so no chunk shares memory with the input). */
export function chunk(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.slice(at, Math.min(bytes.length, at + size)));
  return out;
}

/** Pushes `bytes` in chunks of `chunkSize` (default: whole) and returns what the visitor saw. Throws what the parser throws. */
export function readBytes(bytes: Uint8Array, chunkSize = bytes.length || 1, options?: Partial<CaptureOptions>): ReadResult {
  const records: RecordCopy[] = [];
  const events: string[] = [];
  const parser = createCaptureParser(
    {
      record(r) {
        if (r.data.length !== r.capturedLength) throw new Error('data length differs from capturedLength');
        records.push({
          frameNumber: r.frameNumber,
          interfaceId: r.interfaceId,
          linkType: r.linkType,
          tsSec: r.tsSec,
          tsNanos: r.tsNanos,
          capturedLength: r.capturedLength,
          originalLength: r.originalLength,
          byteOffset: r.byteOffset,
          hex: hex(r.data),
        });
        events.push(`record ${r.frameNumber}`);
      },
      interface(i) {
        events.push(`interface ${JSON.stringify(i)}`);
      },
      statistics(s) {
        events.push(`statistics ${JSON.stringify(s)}`);
      },
      warning(w) {
        events.push(`warning ${JSON.stringify(w)}`);
      },
      comment(text, frame) {
        events.push(`comment ${frame ?? '-'} ${text}`);
      },
    },
    options,
  );
  for (const piece of chunk(bytes, chunkSize)) parser.push(piece);
  const summary = parser.end();
  return { records, events, summary };
}

/** Bytes of a recognisable packet of `length` bytes (byte i = seed + i). */
export function packetBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i) & 0xff;
  return out;
}
