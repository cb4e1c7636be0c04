/**
 * Deterministic text formatting shared by the view model, the SVG charts and the templates.
 * Every number that reaches the HTML goes through one of these, so output never depends on
 * locale, clock or floating-point noise.
 */

/** Escapes text for HTML/XML element content and attribute values (double- or single-quoted). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/** A coordinate with at most 2 decimals and no `-0`: what every SVG attribute uses. */
export function fmtCoord(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** A number with thousands separators (`1,234,567`), fixed `digits` decimals. */
export function fmtInt(value: number): string {
  const sign = value < 0 ? '-' : '';
  const digits = String(Math.round(Math.abs(value)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Seconds with a unit sized to the value: `850 µs`, `12.3 ms`, `4.56 s`, `3 min 20 s`, `2 h 5 min`. */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.abs(seconds);
  const sign = seconds < 0 ? '-' : '';
  if (s === 0) return '0 s';
  if (s < 1e-3) return `${sign}${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${sign}${trimFixed(s * 1e3, s < 0.01 ? 2 : 1)} ms`;
  if (s < 60) {
    const text = trimFixed(s, s < 10 ? 3 : 1);
    // 59.97 s shows as "60": past the minute once rounded, as below.
    if (Number(text) < 60) return `${sign}${text} s`;
  }
  // Rounded first, then split: 119.7 s is "2 min 0 s", never "1 min 60 s".
  const wholeSeconds = Math.round(s);
  if (wholeSeconds < 3600) return `${sign}${Math.floor(wholeSeconds / 60)} min ${wholeSeconds % 60} s`;
  const wholeMinutes = Math.round(s / 60);
  return `${sign}${Math.floor(wholeMinutes / 60)} h ${wholeMinutes % 60} min`;
}

/** Milliseconds as `0.42 ms`, `12.3 ms`, `1,250 ms`. */
export function fmtMs(ms: number): string {
  if (ms < 10) return `${trimFixed(ms, 2)} ms`;
  if (ms < 1000) return `${trimFixed(ms, 1)} ms`;
  return `${fmtInt(ms)} ms`;
}

/** Seconds relative to the capture start, always with a sign and fixed 6 decimals: `+1.000234`. */
export function fmtRelSeconds(seconds: number, decimals = 6): string {
  const v = Object.is(seconds, -0) ? 0 : seconds;
  return `${v < 0 ? '-' : '+'}${Math.abs(v).toFixed(decimals)}`;
}

/** Byte counts as `512 B`, `1.5 kB`, `12.0 MB` (powers of 1000, like Wireshark). */
export function fmtBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toFixed(1)} ${units[i] ?? 'TB'}`;
}

/** Fixed decimals with trailing zeros removed: `trimFixed(1.50, 2)` → `1.5`. */
export function trimFixed(value: number, decimals: number): string {
  const text = value.toFixed(decimals);
  const trimmed = text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  return trimmed === '-0' ? '0' : trimmed;
}

/** `ip:port`, with the IPv6 address in brackets (RFC 5952 §6). */
export function fmtEndpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * A flow's VLAN key (TcpSegment.vlanKey) as text: the id of one tag (`100`), outer/inner ids of
 * two (`100/200`), empty for an untagged flow.
 */
export function vlanText(vlan: number): string {
  if (vlan < 0) return '';
  return vlan < 4096 ? String(vlan) : `${Math.floor(vlan / 4096)}/${vlan % 4096}`;
}

/** English plural: `plural(1, 'connection')` → `1 connection`, `plural(3, 'reset')` → `3 resets`. */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${fmtInt(count)} ${count === 1 ? noun : pluralNoun}`;
}
