/**
 * The async driver: pulls byte chunks from any async iterable (a file stream, stdin, a test
 * generator), decompresses gzip transparently, and pushes the bytes through the push parser.
 *
 * @module
 */

import { constants, createGunzip } from 'node:zlib';
import { createCaptureParser } from './parser.ts';
import { CaptureFormatError, type CaptureOptions, type CaptureSummary, type CaptureVisitor } from './types.ts';
import { isGzipHead, readHead } from '../common/stream-head.ts';

/**
 * Reads a whole capture and returns its summary.
 *
 * Gzip (`1f 8b` as the first two bytes) is detected from content, never from a file name, and
 * decompressed as a stream (memory stays bounded by the chunk size, not the file size). A gzip
 * stream that is truncated or corrupt ends reading with a `truncated_gzip` / `bad_gzip_data`
 * warning. For a truncated stream every byte zlib can inflate is delivered; for corrupt data
 * (including a bad CRC) zlib drops the output of the failing inflate pass, so up to one zlib
 * chunk (16 KiB) before the damage can be lost.
 *
 * Visitor callbacks run synchronously while a chunk is parsed; `record.bytes` is the current chunk
 * (or the parser's carry buffer) and is valid only during the callback.
 *
 * Chunks: `source` may reuse a chunk's memory once the next chunk is requested (the CLI's file
 * reader refills two buffers in turn). readCapture keeps no chunk past that: the parser copies a
 * record cut by the chunk's end, and what is held longer (the first bytes while looking for gzip,
 * input handed to zlib, which may inflate it later) is copied.
 *
 * @throws {CaptureFormatError} for tier-a problems (empty input, unknown magic, bad header).
 *   Errors raised by `source` itself (e.g. a file that cannot be opened) propagate unchanged.
 */
export async function readCapture(
  source: AsyncIterable<Uint8Array>,
  visitor: CaptureVisitor,
  options?: Partial<CaptureOptions>,
): Promise<CaptureSummary> {
  const parser = createCaptureParser(visitor, options);
  const iterator = source[Symbol.asyncIterator]();
  // The first two bytes, to look for gzip.
  const { chunks: head, done: headDone } = await readHead(iterator, 2, toBytes);
  let done = headDone;
  const isGzip = isGzipHead(head);
  if (!isGzip) {
    try {
      for (const chunk of head) parser.push(chunk);
      while (!done) {
        const next = await iterator.next();
        if (next.done === true) done = true;
        else parser.push(toBytes(next.value));
      }
    } finally {
      // Stopped before the end (a capture rejected by its header, a visitor that threw): the
      // source is told, so a file it reads closes now rather than when its handle is collected.
      if (!done) await iterator.return?.();
    }
    return parser.end();
  }
  const gzipError = await gunzipInto(head, done ? undefined : iterator, (bytes) => parser.push(bytes));
  if (gzipError !== undefined) parser.abort(gzipError.code, gzipError.message);
  return { ...parser.end(), compressed: true };
}

/**
 * Streams compressed chunks through zlib and hands each decompressed chunk to `sink` as it is
 * produced. Waits for zlib to drain before writing more, so at most a few chunks are in flight.
 * Returns the gzip problem, if any, as a warning code and message; a CaptureFormatError or a
 * visitor's exception thrown by `sink` is rethrown.
 */
async function gunzipInto(
  head: readonly Uint8Array[],
  rest: AsyncIterator<Uint8Array> | undefined,
  sink: (bytes: Uint8Array) => void,
): Promise<{ code: string; message: string } | undefined> {
  const gunzip = createGunzip();
  let sinkError: unknown;
  let zlibError: (Error & { code?: string }) | undefined;
  gunzip.on('data', (bytes: Buffer) => {
    if (sinkError !== undefined) return;
    try {
      sink(bytes);
    } catch (error: unknown) {
      sinkError = error;
      gunzip.destroy();
    }
  });
  const finished = new Promise<void>((resolve) => {
    gunzip.on('end', resolve);
    gunzip.on('close', resolve);
    gunzip.on('error', (error: Error & { code?: string }) => {
      zlibError ??= error;
      resolve();
    });
  });
  const write = async (chunk: Uint8Array): Promise<boolean> => {
    if (sinkError !== undefined || zlibError !== undefined || gunzip.destroyed) return false;
    // A copy (`new Uint8Array`; a Buffer's slice() would share the memory): zlib queues what it
    // is given and may inflate it after the source reused the chunk.
    if (!gunzip.write(new Uint8Array(chunk))) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          gunzip.off('drain', done);
          gunzip.off('close', done);
          resolve();
        };
        gunzip.on('drain', done);
        gunzip.on('close', done);
      });
    }
    return sinkError === undefined && zlibError === undefined && !gunzip.destroyed;
  };
  let writing = true;
  for (const chunk of head) if (writing) writing = await write(chunk);
  if (rest !== undefined) {
    while (writing) {
      const next = await rest.next();
      if (next.done === true) break;
      writing = await write(toBytes(next.value));
    }
    if (!writing) await rest.return?.();
  }
  if (sinkError === undefined && zlibError === undefined && !gunzip.destroyed) {
    // Flush before ending: zlib drops the output of a pass that fails, and a truncated stream
    // fails in the final Z_FINISH pass. After a sync flush that pass has nothing left to lose.
    await Promise.race([new Promise<void>((resolve) => gunzip.flush(constants.Z_SYNC_FLUSH, () => resolve())), finished]);
  }
  if (!gunzip.destroyed) gunzip.end();
  await finished;
  if (sinkError !== undefined) throw sinkError;
  if (zlibError === undefined) return undefined;
  // zlib reports "unexpected end of file" (Z_BUF_ERROR) when the compressed stream is cut short.
  if (zlibError.code === 'Z_BUF_ERROR') {
    return { code: 'truncated_gzip', message: 'the gzip stream ends early: the compressed file was cut short' };
  }
  return { code: 'bad_gzip_data', message: `corrupt gzip data (${zlibError.message})` };
}

/** Accepts Buffers and strings defensively: a stream opened with an encoding yields strings. */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new CaptureFormatError('capture source yielded something other than bytes (opened with an encoding?)', 0);
}
