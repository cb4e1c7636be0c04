/**
 * Prefix-preserving IP address anonymisation (Crypto-PAn: Xu, Fan, Ammar, Moon, "Prefix-Preserving
 * IP Address Anonymization", 2002) so that reports can be shared outside the company: two
 * addresses that share a k-bit prefix map to addresses that share exactly a k-bit prefix, the
 * same address always maps to the same address under one key, and different keys give unrelated
 * mappings. Bit i of the output is bit i of the input XOR the first bit of AES(key, the input's
 * first i bits padded with a secret pad).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { AnalysisReport, CaptureFacts } from './model.ts';
import type { Finding } from '../diagnose/types.ts';
import type { FlowRecord } from '../tcp/types.ts';
import { MappedFlowList } from './flow-list.ts';

/** A Crypto-PAn mapper for one key. Memoises per address (a capture has far fewer addresses than packets). */
export class IpAnonymizer {
  readonly #cipher;
  readonly #pad: Buffer;
  readonly #cache = new Map<string, string>();

  /** Derives the AES-128 key and the pad from `key` with SHA-256 (any string works as a key). */
  constructor(key: string) {
    const digest = createHash('sha256').update(`tcpmortem-anonymize\0${key}`).digest();
    // ECB over single 16-byte blocks is the Crypto-PAn pseudo-random function, not bulk encryption.
    this.#cipher = createCipheriv('aes-128-ecb', digest.subarray(0, 16), null);
    this.#cipher.setAutoPadding(false);
    this.#pad = this.#encrypt(digest.subarray(16, 32));
  }

  #encrypt(block: Buffer): Buffer {
    return this.#cipher.update(block);
  }

  /** Maps `bytes` (4 or 16) bit by bit. */
  #mapBytes(bytes: Uint8Array): Uint8Array {
    const bits = bytes.length * 8;
    const out = new Uint8Array(bytes.length);
    const block = Buffer.alloc(16);
    for (let i = 0; i < bits; i += 1) {
      // block = first i bits of the input, then the pad's bits from position i on.
      for (let b = 0; b < 16; b += 1) {
        const bitStart = b * 8;
        if (bitStart + 8 <= i) block[b] = bytes[b] ?? 0;
        else if (bitStart >= i) block[b] = this.#pad[b] ?? 0;
        else {
          const keep = i - bitStart;
          const mask = (0xff << (8 - keep)) & 0xff;
          block[b] = ((bytes[b] ?? 0) & mask) | ((this.#pad[b] ?? 0) & ~mask & 0xff);
        }
      }
      const prf = (this.#encrypt(block)[0] ?? 0) >> 7;
      const byte = i >> 3;
      const shift = 7 - (i & 7);
      const inBit = ((bytes[byte] ?? 0) >> shift) & 1;
      out[byte] = (out[byte] ?? 0) | ((inBit ^ prf) << shift);
    }
    return out;
  }

  /** Anonymises one IPv4 dotted quad or IPv6 text address; anything else is returned unchanged. */
  map(address: string): string {
    const cached = this.#cache.get(address);
    if (cached !== undefined) return cached;
    let result = address;
    if (isIPv4(address)) {
      result = Array.from(this.#mapBytes(Uint8Array.from(address.split('.').map(Number)))).join('.');
    } else if (isIPv6(address)) {
      const bytes = parseIPv6(address);
      if (bytes !== null) result = formatIPv6(this.#mapBytes(bytes));
    }
    this.#cache.set(address, result);
    return result;
  }

  /** Replaces every IPv4 and IPv6 address inside free text (summaries, filters, comments). */
  mapText(text: string): string {
    return text.replace(ADDRESS_IN_TEXT, (match) => {
      if (isIPv4(match)) return this.map(match);
      // A candidate like `[2001:db8::1]:443` arrives without brackets; `12:34:56` is no address.
      if (isIPv6(match)) return this.map(match);
      return match;
    });
  }
}

/** IPv6 candidates (hex groups with at least two colons, optional embedded IPv4) or IPv4 dotted quads. */
const ADDRESS_IN_TEXT =
  /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])|(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g;

/** 16 bytes of an IPv6 address given as valid text (checked by `isIPv6`), or null. */
export function parseIPv6(text: string): Uint8Array | null {
  let head = text;
  let v4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    v4 = tail.split('.').map(Number);
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const parse = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const l = parse(left);
  const r = parse(right);
  const zeros = right === undefined ? 0 : 8 - l.length - r.length;
  const groups = [...l, ...new Array<number>(Math.max(0, zeros)).fill(0), ...r];
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = (g >> 8) & 255;
    out[i * 2 + 1] = g & 255;
  });
  if (v4.length === 4) v4.forEach((b, i) => (out[12 + i] = b));
  return out;
}

/** RFC 5952 text of 16 bytes: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i += 1) groups.push(((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function mapUnknown(value: unknown, anon: IpAnonymizer): unknown {
  if (typeof value === 'string') return anon.mapText(value);
  if (Array.isArray(value)) return value.map((v: unknown) => mapUnknown(v, anon));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[anon.mapText(k)] = mapUnknown(v, anon);
    return out;
  }
  return value;
}

/**
 * Returns a copy of `report` with every IP address replaced, consistently and prefix-preserving,
 * under `key`: flow endpoints, finding endpoints, summaries, explanations, causes, checks,
 * Wireshark filters, caveats and details, capture comments, file name and warnings, and any
 * optional sections (such as `quality`). Deterministic: same report and key, same output.
 *
 * The copy's `flows` is a lazy {@link MappedFlowList} over `report.flows`: each record is mapped
 * when it is read and not kept, so the source list must stay valid as long as the copy is used.
 */
export function anonymizeReport(report: AnalysisReport, key: string): AnalysisReport {
  const anon = new IpAnonymizer(key);
  const text = (s: string): string => anon.mapText(s);
  // Lazy: each flow is mapped when read (the anonymizer memoises per address), so anonymising a
  // report of any size holds no copy of its flows.
  const flows = new MappedFlowList(
    report.flows,
    (f): FlowRecord => ({
      ...f,
      client: { ip: anon.map(f.client.ip), port: f.client.port },
      server: { ip: anon.map(f.server.ip), port: f.server.port },
    }),
  );
  const findings: Finding[] = report.findings.map((f) => {
    const mapped: Finding = {
      ...f,
      title: text(f.title),
      summary: text(f.summary),
      explanation: text(f.explanation),
      causes: f.causes.map(text),
      checks: f.checks.map(text),
      endpoint: text(f.endpoint),
      wiresharkFilter: text(f.wiresharkFilter),
    };
    const withCaveat: Finding = f.caveat === undefined ? mapped : { ...mapped, caveat: text(f.caveat) };
    return f.details === undefined
      ? withCaveat
      : { ...withCaveat, details: mapUnknown(f.details, anon) as Readonly<Record<string, unknown>> };
  });
  const capture: CaptureFacts = {
    ...report.capture,
    file: text(report.capture.file),
    comments: report.capture.comments.map(text),
    warnings: report.capture.warnings.map((w) => ({ ...w, message: text(w.message) })),
  };
  // Optional sections added by other stages (e.g. `quality`) are mapped generically.
  const known = new Set(['schema', 'tool', 'capture', 'flows', 'findings', 'detectors']);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(report)) if (!known.has(k)) extra[k] = mapUnknown(v, anon);
  return {
    schema: report.schema,
    tool: report.tool,
    capture,
    flows,
    findings,
    detectors: report.detectors.map((d) => (d.error === undefined ? d : { ...d, error: text(d.error) })),
    ...extra,
  } as AnalysisReport;
}
