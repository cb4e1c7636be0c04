/**
 * The `tcpmortem/1` document as a stream of text chunks: byte for byte the text of
 * `${JSON.stringify(report, null, 2)}\n`, but built one flow at a time.
 *
 * Why: `report.flows` may be a `FlowList` that builds each record on demand, and a large
 * capture's document is bigger than the longest string V8 can make (2^29 - 24 UTF-16 units, about
 * 512 MiB), so one `JSON.stringify` would both materialise every record and throw. Here each flow
 * is stringified alone, already at its depth (see {@link NestedStringifier}), and dropped,
 * and the pieces are batched into chunks of about {@link JSON_CHUNK_CHARS}, so memory holds one
 * record and one chunk at a time. Pure: the caller writes the chunks (see {@link writeReportJson}).
 */
import type { AnalysisReport } from './model.ts';
import type { FlowRecord } from '../tcp/types.ts';

/**
 * Target chunk length in UTF-16 code units (64 Ki; as UTF-8 about 64 KiB for the ASCII text of
 * a report): big enough that writing costs few system calls, small enough to stay out of the way.
 * A chunk is cut after the piece that reaches it, so one flow's JSON may make a chunk longer.
 */
export const JSON_CHUNK_CHARS = 64 * 1024;

/**
 * Concatenates `pieces` into chunks of at least `chunkChars` code units (the last one may be
 * shorter); yields nothing for no text. Lazy: reads a piece only when the chunk needs it.
 */
export function* batchChunks(pieces: Iterable<string>, chunkChars: number = JSON_CHUNK_CHARS): Generator<string, void, undefined> {
  let buffer = '';
  for (const piece of pieces) {
    buffer += piece;
    if (buffer.length >= chunkChars) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

/** `text` with `pad` inserted after every newline: the JSON.stringify text of a value nested deeper. */
export function indentLines(text: string, pad: string): string {
  // JSON.stringify escapes newlines inside strings, so every raw newline is structural.
  return pad === '' ? text : text.replace(/\n/g, `\n${pad}`);
}

/**
 * `JSON.stringify(value, null, 2)` of values that sit `depth` levels deep in a document, each line
 * after the first already indented by `2 * depth` more spaces: the value is stringified inside
 * `depth` nested one-element arrays (reused), and the arrays' brackets are cut off the text (a
 * slice, no copy). Re-indenting the text of the value alone instead (a regular-expression pass
 * over every flow's text) took 3.7 of the 25 s that writing the benchmark capture's 2.1 GB
 * document took.
 */
class NestedStringifier {
  private readonly innermost: unknown[] = [null];
  private readonly outermost: unknown[];
  private readonly prefixChars: number;
  private readonly suffixChars: number;

  constructor(depth: number) {
    let outer: unknown[] = this.innermost;
    for (let i = 1; i < depth; i += 1) outer = [outer];
    this.outermost = outer;
    // Where the value's text starts and how much follows it, from a value whose text is "0".
    this.innermost[0] = 0;
    const probe = JSON.stringify(this.outermost, null, 2);
    this.prefixChars = probe.lastIndexOf('0');
    this.suffixChars = probe.length - this.prefixChars - 1;
    this.innermost[0] = null;
  }

  /** The text of `value` (`null` for a value JSON.stringify leaves out, as in an array). */
  stringify(value: unknown): string {
    this.innermost[0] = value;
    try {
      const text = JSON.stringify(this.outermost, null, 2);
      return text.slice(this.prefixChars, text.length - this.suffixChars);
    } finally {
      this.innermost[0] = null;
    }
  }
}

/** A value JSON.stringify would write as an array and that we can walk one element at a time. */
function isIterableList(value: unknown): value is Iterable<FlowRecord> {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function';
}

/**
 * The unbatched pieces of `JSON.stringify(report, null, 2)`, every line after the first indented
 * by `indent` more spaces (to nest the report in a bigger document); no final newline. Follows
 * JSON.stringify's rules for the top level: own enumerable keys in order, members whose value
 * serialises to nothing (undefined, functions) left out, `[]` and `{}` for empty containers.
 */
function* reportJsonPieces(report: AnalysisReport, indent: number): Generator<string, void, undefined> {
  const outerPad = ' '.repeat(indent);
  const memberPad = `${outerPad}  `;
  const itemPad = `${memberPad}  `;
  const members = report as unknown as Readonly<Record<string, unknown>>;
  let firstMember = true;
  for (const key of Object.keys(members)) {
    const value = members[key];
    const head = `${firstMember ? '{' : ','}\n${memberPad}${JSON.stringify(key)}: `;
    if ((key === 'flows' && isIterableList(value)) || Array.isArray(value)) {
      // One item at a time: each flow record is built, stringified and dropped before the next.
      // Other arrays (findings, detectors) too: whole, the findings of a big capture were
      // megabytes of text indented again by a regex, strings large enough to go straight to
      // old space (27 MB of garbage while the benchmark capture's document was written).
      yield head;
      firstMember = false;
      let firstItem = true;
      // Items are two levels below the report: `indent / 2 + 2` levels deep. An odd indent (no
      // caller uses one) is re-indented the slow way.
      const nested = indent % 2 === 0 ? new NestedStringifier(indent / 2 + 2) : undefined;
      for (const item of value as Iterable<unknown>) {
        const text =
          nested !== undefined ? nested.stringify(item) : indentLines(JSON.stringify(item, null, 2) ?? 'null', itemPad);
        yield `${firstItem ? '[' : ','}\n${itemPad}${text}`;
        firstItem = false;
      }
      yield firstItem ? '[]' : `\n${memberPad}]`;
      continue;
    }
    const text = JSON.stringify(value, null, 2) as string | undefined;
    if (text === undefined) continue;
    yield head + indentLines(text, memberPad);
    firstMember = false;
  }
  yield firstMember ? '{}' : `\n${outerPad}}`;
}

/**
 * The text of `JSON.stringify(report, null, 2)`, nested `indent` spaces deep (every line after
 * the first indented by `indent` more spaces; 0 for a document of its own), without a final
 * newline, in chunks of about {@link JSON_CHUNK_CHARS}. Each iteration is one pass over
 * `report.flows`, which must not change meanwhile. Throws what JSON.stringify throws (a bigint,
 * a cycle). Use it to embed a report in a larger streamed document.
 */
export function reportJsonChunks(report: AnalysisReport, indent = 0): Generator<string, void, undefined> {
  return batchChunks(reportJsonPieces(report, indent));
}

/**
 * The `tcpmortem/1` document, `${JSON.stringify(report, null, 2)}\n` byte for byte, in chunks of
 * about {@link JSON_CHUNK_CHARS}: one pass over `report.flows`.
 */
export function reportJsonDocument(report: AnalysisReport): Generator<string, void, undefined> {
  return batchChunks(documentPieces(report));
}

function* documentPieces(report: AnalysisReport): Generator<string, void, undefined> {
  yield* reportJsonPieces(report, 0);
  yield '\n';
}

/**
 * Writes the `tcpmortem/1` document of `report` ({@link reportJsonDocument}) through `write`,
 * one chunk per call, in order. When `write` returns a promise the next chunk waits for it: that
 * is how a caller applies backpressure (resolve once the stream has drained). Rejects with the
 * first error of `write` or of serialisation; chunks written until then stay written.
 */
export async function writeReportJson(report: AnalysisReport, write: (chunk: string) => void | Promise<void>): Promise<void> {
  for (const chunk of reportJsonDocument(report)) await write(chunk);
}
