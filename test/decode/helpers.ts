import { decodePacket } from '../../src/decode/index.ts';
import { createTcpSegment } from '../../src/decode/index.ts';
import type { DecodeStatus, TcpSegment } from '../../src/decode/index.ts';

/** Bytes from a hex string (whitespace ignored). */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex literal: ${text}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Decodes into a fresh segment and returns both. */
export function decode(
  linkType: number,
  data: Uint8Array,
  originalLength?: number,
): { status: DecodeStatus; seg: TcpSegment } {
  const seg = createTcpSegment();
  const status = decodePacket(linkType, data, seg, originalLength);
  return { status, seg };
}

/** Writes a big-endian 16-bit value into a copy of `data`. */
export function patch16(data: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = data.slice();
  copy[offset] = value >> 8;
  copy[offset + 1] = value & 0xff;
  return copy;
}
