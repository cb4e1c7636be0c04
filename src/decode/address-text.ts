/**
 * Formats an address held as four big-endian 32-bit words (the {@link TcpSegment} layout).
 *
 * IPv4-mapped addresses (`::ffff:a.b.c.d`, which is how IPv4 is stored) print as a dotted quad.
 * Everything else prints in the RFC 5952 canonical form: lower-case hex, no leading zeros, the
 * longest run of two or more zero groups replaced by `::` (the first such run on a tie), a single
 * zero group never compressed. A real IPv6 packet carrying an IPv4-mapped address therefore prints
 * as IPv4; the decoder stores both the same way, so the flow stage treats them alike too.
 *
 * Allocates the result string: meant for reports and logs, not the per-packet path.
 */
export function formatAddress(w0: number, w1: number, w2: number, w3: number): string {
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    return `${w3 >>> 24}.${(w3 >>> 16) & 0xff}.${(w3 >>> 8) & 0xff}.${w3 & 0xff}`;
  }
  const groups = [
    w0 >>> 16, w0 & 0xffff,
    w1 >>> 16, w1 & 0xffff,
    w2 >>> 16, w2 & 0xffff,
    w3 >>> 16, w3 & 0xffff,
  ];
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map(hex).join(':');
  const head = groups.slice(0, bestStart).map(hex).join(':');
  const tail = groups.slice(bestStart + bestLength).map(hex).join(':');
  return `${head}::${tail}`;
}

function hex(group: number): string {
  return group.toString(16);
}
