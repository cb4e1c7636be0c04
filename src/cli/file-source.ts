/**
 * A capture file's bytes as chunks read into two reused buffers, for {@link readCapture}.
 *
 * Why not `fs.createReadStream`: it hands out a new 1 MiB Buffer per chunk, memory outside V8's
 * heap that is given back only when a garbage collection finds the Buffer dead. Once the reader
 * stopped allocating per record, collections came seldom enough that ~30 MB of read chunks
 * waited for one (peak RSS of the benchmark capture's analysis 275 -> 284 MB), and the external
 * memory forced major collections of their own. Two buffers, refilled in turn, hold the whole
 * read: 256 MB peak for the same run.
 *
 * Contract: a chunk is valid until the next one is requested; its buffer is then read into again.
 * readCapture keeps no chunk past that (it copies what it must hold on to). While the consumer
 * parses one chunk, the next is read into the other buffer (libuv's thread pool), so reading
 * overlaps parsing as it did with the stream.
 *
 * @module
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** Bytes per read: 1 MiB, as the stream used (larger chunks did not read faster). */
export const FILE_CHUNK_BYTES = 1 << 20;

/**
 * The bytes of the file at `path`, in order, from its start to its end, as chunks of at most
 * `chunkBytes` (see the module comment for how long a chunk stays valid). Works on anything
 * `open` can read in sequence (regular files, FIFOs). The file is closed when the generator ends,
 * is returned early, or throws.
 */
export async function* readFileChunks(path: string, chunkBytes: number = FILE_CHUNK_BYTES): AsyncGenerator<Uint8Array, void, undefined> {
  const handle: FileHandle = await open(path, 'r');
  let current = Buffer.allocUnsafe(chunkBytes);
  let next = Buffer.allocUnsafe(chunkBytes);
  let pending: Promise<{ bytesRead: number }> | undefined = handle.read(current, 0, chunkBytes, null);
  try {
    for (;;) {
      const { bytesRead } = await pending;
      pending = undefined;
      if (bytesRead === 0) return;
      const chunk = current;
      current = next;
      next = chunk;
      // Read ahead into the other buffer; position null: go on from the file's current offset.
      pending = handle.read(current, 0, chunkBytes, null);
      yield bytesRead === chunkBytes ? chunk : chunk.subarray(0, bytesRead);
    }
  } finally {
    // A read still in flight (the consumer stopped early) finishes before the file closes.
    if (pending !== undefined) await pending.catch(() => undefined);
    await handle.close();
  }
}
