/**
 * Writing streamed text (the chunks of a report's JSON, the lines of a listing) to stdout or to a
 * file, with backpressure: the next chunk is produced only once the stream can take it, so a
 * document larger than memory (or than the longest string V8 can make) is never held whole.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Writes `chunks` to stdout in order, waiting for 'drain' whenever a write reports a full buffer.
 * Rejects if stdout emits 'error' while we wait (e.g. EPIPE); stdout is never ended.
 */
export async function writeToStdout(chunks: Iterable<string>): Promise<void> {
  const out = process.stdout;
  for (const chunk of chunks) if (!out.write(chunk)) await once(out, 'drain');
}

/**
 * Writes `chunks` to the file at `path` (created or truncated), then closes it. Resolves once the
 * file is closed; rejects with the first error (cannot open, cannot write, or an exception thrown
 * by the chunk producer), leaving in the file what was written before it.
 */
export async function writeToFile(path: string, chunks: Iterable<string>): Promise<void> {
  await pipeline(Readable.from(chunks), createWriteStream(path));
}

/** {@link writeToFile}, or {@link writeToStdout} when `path` is `-`. */
export async function writeToPath(path: string, chunks: Iterable<string>): Promise<void> {
  if (path === '-') await writeToStdout(chunks);
  else await writeToFile(path, chunks);
}
