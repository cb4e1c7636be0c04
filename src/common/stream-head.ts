/**
 * The first bytes of a chunked source, to recognise its format (gzip's `1f 8b`) before reading
 * on: shared by the capture reader and the result reader.
 *
 * @module
 */

/** What {@link readHead} gathered. */
export interface StreamHead {
  /** The chunks read, in order (at least `n` bytes in all unless the source ended). */
  readonly chunks: Uint8Array[];
  /** Whether the source ended while they were read. */
  readonly done: boolean;
}

/**
 * Reads chunks from `iterator` until they hold `n` bytes or the source ends (a source may hand
 * out 1-byte chunks). A chunk held while the next one is asked for is copied, since a source may
 * reuse a chunk's memory then (the CLI's file reader refills two buffers in turn); the last chunk
 * read is not, and the caller must use it before asking for more. `toBytes` checks each value.
 */
export async function readHead(iterator: AsyncIterator<unknown>, n: number, toBytes: (value: unknown) => Uint8Array): Promise<StreamHead> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  while (bytes < n) {
    const next = await iterator.next();
    if (next.done === true) return { chunks, done: true };
    const chunk = toBytes(next.value);
    chunks.push(bytes + chunk.length < n ? new Uint8Array(chunk) : chunk);
    bytes += chunk.length;
  }
  return { chunks, done: false };
}

/** Whether the chunks start with gzip's magic bytes `1f 8b`. */
export function isGzipHead(chunks: readonly Uint8Array[]): boolean {
  return byteAt(chunks, 0) === 0x1f && byteAt(chunks, 1) === 0x8b;
}

/** The byte at `index` of the chunks laid end to end, undefined past their end. */
function byteAt(chunks: readonly Uint8Array[], index: number): number | undefined {
  for (const chunk of chunks) {
    if (index < chunk.length) return chunk[index];
    index -= chunk.length;
  }
  return undefined;
}
