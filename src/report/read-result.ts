/**
 * A saved `tcpmortem/1` result, read back from byte chunks for `tcpmortem render`, in memory
 * bounded by its compressed size rather than by V8's longest string.
 *
 * Why not `JSON.parse` of the whole text: a large capture's document is bigger than the longest
 * string V8 makes (2^29 - 24 UTF-16 units, ~537 MB; the benchmark capture's is 2.1 GB), and
 * parsed at once its records take several times the text's size. Here the document is scanned
 * byte by byte for its structure only (strings, brackets, the top-level `flows` member): every
 * element of `flows` is kept as its own bytes in 1 MiB pages, each page deflated once full (a
 * page of records compresses about tenfold), and the rest of the document (capture facts,
 * findings, detectors, quality: small) is parsed with `JSON.parse` as usual. The flows are
 * parsed one at a time, when the report reads them ({@link PagedJsonFlowList}).
 *
 * Pure: no I/O of its own beyond the chunks it is handed (zlib is in-process computation).
 *
 * @module
 */
import { Readable } from 'node:stream';
import { createGunzip, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AnalysisReport } from './model.ts';
import { isGzipHead, readHead } from '../common/stream-head.ts';
import type { FlowList, FlowRecord } from '../tcp/types.ts';

/** Bytes of flow text per page before it is deflated (a record longer than that gets a page of its own). */
const PAGE_BYTES = 1 << 20;

/** A result that is not a JSON document of the expected shape; `byteOffset` is where in the input. */
export class ResultFormatError extends Error {
  constructor(
    message: string,
    readonly byteOffset: number,
  ) {
    super(message);
    this.name = 'ResultFormatError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** A growable byte buffer (the document without its flows). */
class ByteBuffer {
  bytes = new Uint8Array(64 * 1024);
  length = 0;

  append(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (this.length + n > this.bytes.length) {
      const next = new Uint8Array(Math.max(2 * this.bytes.length, this.length + n));
      next.set(this.bytes.subarray(0, this.length));
      this.bytes = next;
    }
    this.bytes.set(src.subarray(from, to), this.length);
    this.length += n;
  }
}

/**
 * The flows of a saved result: each element's JSON text in deflated pages, parsed on access. A
 * record is a fresh object on every access (as from the flow store); the last page read stays
 * inflated, so a pass in order inflates each page once.
 */
export class PagedJsonFlowList implements FlowList {
  private readonly pages: Uint8Array[] = [];
  /** Per flow: its page, its offset and length in the inflated page, its byte offset in the input. */
  private pageOf = new Uint32Array(1024);
  private offsetOf = new Uint32Array(1024);
  private lengthOf = new Uint32Array(1024);
  private inputOffsetOf = new Float64Array(1024);
  private count = 0;
  /** The page being filled, and how much of it is used. */
  private page = new Uint8Array(PAGE_BYTES);
  private used = 0;
  private inflatedIndex = -1;
  private inflated: Uint8Array = new Uint8Array(0);
  private readonly decoder = new TextDecoder();
  /** Bytes of flow text, and of its deflated pages (for tests and measurements). */
  textBytes = 0;
  storedBytes = 0;

  get length(): number {
    return this.count;
  }

  /** Starts a flow whose text begins at `inputOffset` of the document. */
  begin(inputOffset: number): void {
    if (this.count === this.pageOf.length) {
      const grow = <T extends Uint32Array | Float64Array>(a: T): T => {
        const next = new (a.constructor as new (n: number) => T)(2 * a.length);
        next.set(a);
        return next;
      };
      this.pageOf = grow(this.pageOf);
      this.offsetOf = grow(this.offsetOf);
      this.lengthOf = grow(this.lengthOf);
      this.inputOffsetOf = grow(this.inputOffsetOf);
    }
    this.pageOf[this.count] = this.pages.length;
    this.offsetOf[this.count] = this.used;
    this.lengthOf[this.count] = 0;
    this.inputOffsetOf[this.count] = inputOffset;
    this.count++;
  }

  /** Appends bytes of the flow begun last (its text may arrive in several chunks). */
  append(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    const i = this.count - 1;
    if (this.used + n > this.page.length) {
      // Seal the page without the flow begun last, and move its text so far to the start of the
      // next page: the same buffer (deflate has copied what it needed), or a larger one for a
      // flow longer than a page.
      const sofar = this.lengthOf[i]!;
      const start = this.offsetOf[i]!;
      this.used = start;
      this.seal();
      const next = sofar + n > this.page.length ? new Uint8Array(2 * (sofar + n)) : this.page;
      next.set(this.page.subarray(start, start + sofar));
      this.page = next;
      this.used = sofar;
      this.pageOf[i] = this.pages.length;
      this.offsetOf[i] = 0;
    }
    this.page.set(src.subarray(from, to), this.used);
    this.used += n;
    this.lengthOf[i]! += n;
    this.textBytes += n;
  }

  /** Deflates the page being filled, whose buffer is then free to fill again (called when it is full and at the end of the input). */
  seal(): void {
    if (this.used === 0) return;
    const compressed = deflateRawSync(this.page.subarray(0, this.used), { level: 1 });
    this.pages.push(compressed);
    this.storedBytes += compressed.length;
    this.used = 0;
  }

  /** After the last flow: the page being filled is sealed, and the list is read-only. */
  finish(): void {
    this.seal();
    this.page = new Uint8Array(0);
  }

  at(index: number): FlowRecord | undefined {
    if (!(index >= 0 && index < this.count)) return undefined;
    const p = this.pageOf[index]!;
    if (p !== this.inflatedIndex) {
      this.inflated = inflateRawSync(this.pages[p]!);
      this.inflatedIndex = p;
    }
    const off = this.offsetOf[index]!;
    const text = this.decoder.decode(this.inflated.subarray(off, off + this.lengthOf[index]!));
    try {
      return JSON.parse(text) as FlowRecord;
    } catch (err) {
      throw new ResultFormatError(`flows[${index}] is not JSON: ${(err as Error).message}`, this.inputOffsetOf[index]!);
    }
  }

  *[Symbol.iterator](): IterableIterator<FlowRecord> {
    for (let i = 0; i < this.count; i++) yield this.at(i)!;
  }

  /** `JSON.stringify` of the list is the array of its records, as for the flow store. */
  toJSON(): FlowRecord[] {
    return [...this];
  }
}

function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new ResultFormatError('the result source yielded something other than bytes (opened with an encoding?)', 0);
}

/**
 * `input`, decompressed as it is read when it is gzip (`1f 8b`, from its content, as captures
 * are): a result saved as `analyze --json | gzip > result.json.gz` is about a tenth of its size.
 * Byte offsets in errors are then offsets in the decompressed text.
 */
async function gunzipped(input: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const iterator = input[Symbol.asyncIterator]();
  const { chunks: head, done: headDone } = await readHead(iterator, 2, asBytes);
  let done = headDone;
  const all = async function* (): AsyncGenerator<Uint8Array> {
    yield* head;
    while (!done) {
      const next = await iterator.next();
      if (next.done === true) done = true;
      else yield next.value;
    }
  };
  if (!isGzipHead(head)) return all();
  // Compressed chunks are copied before zlib queues them (the source may refill a chunk's memory
  // once asked for the next); decompressed chunks are new buffers.
  const copies = async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of all()) yield new Uint8Array(chunk);
  };
  return Readable.from(copies(), { objectMode: false }).pipe(createGunzip());
}

/**
 * Reads a `tcpmortem/1` document (or any JSON object whose `flows` member is an array of
 * objects), plain or gzip-compressed, from `input`: the document with `flows` as a {@link PagedJsonFlowList}. Checks the
 * structure as it scans (balanced brackets and strings, one top-level object); a flow's own
 * syntax is checked when it is read (its error names `flows[i]` and its byte offset).
 *
 * @throws ResultFormatError for input that is not one JSON object (with the byte offset).
 */
export async function readResult(input: AsyncIterable<Uint8Array>): Promise<AnalysisReport> {
  const chunks = await gunzipped(input);
  const flows = new PagedJsonFlowList();
  const rest = new ByteBuffer();
  // The structure: depth of brackets, whether inside a string and after a backslash in it.
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  let ended = false;
  // The top-level key read last (its bytes, as text once complete), and where the flows are.
  let keyStart = -1;
  const keyBytes = new ByteBuffer();
  let lastKey = '';
  let expectKey = false;
  /** 0: not in flows; 1: after `"flows":`, waiting for `[`; 2: inside the flows array. */
  let flowsState = 0;
  let inElement = false;
  let offset = 0;

  for await (const chunk of chunks) {
    const n = chunk.length;
    // Where the bytes of this chunk that go to `rest` (or to the flow being read) start.
    let copyFrom = 0;
    for (let i = 0; i < n; i++) {
      if (inString && !escaped) {
        // The body of a string in a tight loop: most of a document's bytes.
        let j = i;
        while (j < n) {
          const c = chunk[j]!;
          if (c === QUOTE || c === BACKSLASH) break;
          j++;
        }
        if (j === n) break;
        i = j;
      }
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) {
          inString = false;
          if (keyStart >= 0) {
            keyBytes.append(chunk, keyStart, i);
            lastKey = new TextDecoder().decode(keyBytes.bytes.subarray(0, keyBytes.length));
            keyStart = -1;
          }
        }
        continue;
      }
      if (isSpace(b)) {
        // Runs of indentation (a pretty-printed result is about half blanks) in a tight loop.
        while (i + 1 < n && chunk[i + 1] === 0x20) i++;
        continue;
      }
      if (ended) throw new ResultFormatError('text after the end of the JSON document', offset + i);
      if (!started) {
        if (b !== OPEN_BRACE) throw new ResultFormatError('not a JSON object', offset + i);
        started = true;
      }
      if (flowsState === 1) {
        // The value of the top-level "flows": an array, whose `[` goes to `rest` and whose
        // elements do not (its brackets are not counted in `depth`).
        if (b !== OPEN_BRACKET) throw new ResultFormatError('"flows" is not an array', offset + i);
        flowsState = 2;
        rest.append(chunk, copyFrom, i + 1);
        copyFrom = i + 1;
        continue;
      }
      // Inside the flows array, between elements: an element starts, or the array ends.
      if (flowsState === 2 && depth === 1 && !inElement) {
        if (b === CLOSE_BRACKET) {
          flowsState = 0;
          copyFrom = i;
          continue;
        }
        if (b === COMMA) continue;
        if (b !== OPEN_BRACE) throw new ResultFormatError(`flows[${flows.length}] is not an object`, offset + i);
        inElement = true;
        flows.begin(offset + i);
        copyFrom = i;
      }
      switch (b) {
        case QUOTE:
          inString = true;
          if (depth === 1 && expectKey) {
            keyStart = i + 1;
            keyBytes.length = 0;
            expectKey = false;
          }
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          depth++;
          if (depth === 1) expectKey = true;
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          // depth >= 1 here: at 0 the document has ended, and a byte after it throws above.
          depth--;
          if (depth === 0) ended = true;
          break;
        case COMMA:
          if (depth === 1) expectKey = true;
          break;
        case COLON:
          if (depth === 1 && lastKey === 'flows' && flowsState === 0 && flows.length === 0) flowsState = 1;
          lastKey = '';
          break;
        default:
          break;
      }
      // An element of flows ends when its brackets close (or, for a bare value, at , or ]).
      if (inElement && depth === 1 && (b === CLOSE_BRACE || b === CLOSE_BRACKET)) {
        flows.append(chunk, copyFrom, i + 1);
        inElement = false;
        copyFrom = i + 1;
      }
    }
    if (inString && keyStart >= 0) {
      keyBytes.append(chunk, keyStart, n);
      keyStart = 0;
    }
    if (inElement) flows.append(chunk, copyFrom, n);
    else if (flowsState !== 2) rest.append(chunk, copyFrom, n);
    offset += n;
  }
  if (!started) throw new ResultFormatError('empty input: not a JSON object', offset);
  if (!ended || inString) throw new ResultFormatError('the JSON document ends early', offset);
  flows.finish();
  let report: AnalysisReport;
  try {
    report = JSON.parse(new TextDecoder().decode(rest.bytes.subarray(0, rest.length))) as AnalysisReport;
  } catch (err) {
    throw new ResultFormatError(`not JSON: ${(err as Error).message}`, 0);
  }
  return { ...report, flows };
}
