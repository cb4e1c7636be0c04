/**
 * Flag letters in ascending bit order: F(IN) S(YN) R(ST) P(SH) A(CK) U(RG) E(CE) C(WR) N(S).
 * Bit order gives the familiar dpkt/Zeek-like spellings ('SA', 'PA', 'FA', 'RA', 'FPA') and a
 * single, predictable order for the rare combinations.
 */
const LETTERS = 'FSRPAUECN';

/**
 * All 512 renderings, built once at load so {@link flagsToText} is a table lookup: interned
 * strings, no allocation per call.
 */
const FLAG_TEXT: readonly string[] = (() => {
  const table: string[] = [];
  for (let flags = 0; flags < 512; flags++) {
    let text = '';
    for (let bit = 0; bit < 9; bit++) if ((flags & (1 << bit)) !== 0) text += LETTERS[bit];
    table.push(text);
  }
  return table;
})();

/**
 * Renders a TCP flags bitmask (TCP_* bits) as letters in the order F S R P A U E C N, e.g.
 * `TCP_SYN | TCP_ACK` → `'SA'`, `TCP_PSH | TCP_ACK` → `'PA'`, SYN with ECE and CWR → `'SEC'`.
 * No flags → `''`. Bits above the 9 TCP flags are ignored. Returns an interned string; never allocates.
 */
export function flagsToText(flags: number): string {
  return FLAG_TEXT[flags & 0x1ff]!;
}
