/**
 * Parses an IPv4 dotted quad or an IPv6 address (RFC 4291 §2.2 text forms: full, `::`-compressed,
 * trailing dotted quad) into four big-endian 32-bit words, the {@link TcpSegment} layout. IPv4
 * comes out IPv4-mapped (`::ffff:a.b.c.d`), as the decoder stores it, so `formatAddress` (address-text.ts)
 * of the words gives the text the flows show. Throws `Error` on anything else: a typo in a
 * fixture recipe fails loudly, and `tcpmortem flows --host` says the address is not one.
 */
export function parseAddress(text: string): [number, number, number, number] {
  if (!text.includes(':')) {
    return [0, 0, 0xffff, parseDottedQuad(text, text)];
  }
  let groups: number[];
  const doubleColon = text.indexOf('::');
  if (doubleColon !== text.lastIndexOf('::')) throw new Error(`bad IPv6 address: ${text}`);
  const parseGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    pieces.forEach((piece, index) => {
      if (piece.includes('.') && index === pieces.length - 1) {
        const v4 = parseDottedQuad(piece, text);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        throw new Error(`bad IPv6 address: ${text}`);
      }
    });
    return out;
  };
  if (doubleColon >= 0) {
    const head = parseGroups(text.slice(0, doubleColon));
    const tail = parseGroups(text.slice(doubleColon + 2));
    const zeros = 8 - head.length - tail.length;
    if (zeros < 1) throw new Error(`bad IPv6 address: ${text}`);
    groups = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  } else {
    groups = parseGroups(text);
  }
  if (groups.length !== 8) throw new Error(`bad IPv6 address: ${text}`);
  const word = (i: number): number => ((groups[i]! << 16) | groups[i + 1]!) >>> 0;
  return [word(0), word(2), word(4), word(6)];
}

/** True when the words are an IPv4-mapped address. */
export function isIpv4Mapped(words: readonly number[]): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

function parseDottedQuad(text: string, whole: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`bad IPv4 address: ${whole}`);
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) throw new Error(`bad IPv4 address: ${whole}`);
    value = value * 256 + Number(part);
  }
  return value;
}
