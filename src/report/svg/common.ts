/**
 * Shared pieces of the server-side SVG charts: state colours, the font, axis drawing on top of
 * d3-scale ticks, and the deterministic number formatting every chart uses. Charts return SVG
 * markup as a string; they never use ids (several charts share one HTML document) nor randomness.
 */
import type { ScaleLinear } from 'd3-scale';
import type { TcpState } from '../../tcp/types.ts';
import { escapeXml, fmtCoord } from '../format.ts';

export { escapeXml, fmtCoord as c };

/** Colour per RFC 9293 state: distinct hues that stay distinguishable when printed. */
export const STATE_COLORS: Readonly<Record<TcpState, string>> = {
  CLOSED: '#b0b0b0',
  LISTEN: '#8d8d8d',
  SYN_SENT: '#e6a700',
  SYN_RECEIVED: '#f57c00',
  ESTABLISHED: '#2e9d4a',
  FIN_WAIT_1: '#64b5f6',
  FIN_WAIT_2: '#1e78d2',
  CLOSE_WAIT: '#d81b60',
  CLOSING: '#8e24aa',
  LAST_ACK: '#5e35b1',
  TIME_WAIT: '#6d8796',
  UNKNOWN: '#d9d0c1',
};

/** State order used by legends and stacks: the life of a connection, left to right. */
export const STATE_ORDER: readonly TcpState[] = [
  'SYN_SENT',
  'SYN_RECEIVED',
  'ESTABLISHED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
  'LISTEN',
  'UNKNOWN',
  'CLOSED',
];

export const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif"';
export const MONO = 'font-family="ui-monospace,SFMono-Regular,Menlo,Consolas,monospace"';

/** Opening `<svg>` tag with a viewBox, an accessible title and the default font. */
export function svgOpen(width: number, height: number, title: string, cls: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="${cls}" viewBox="0 0 ${fmtCoord(width)} ${fmtCoord(height)}" ` +
    `width="${fmtCoord(width)}" height="${fmtCoord(height)}" role="img" ${FONT} font-size="11">` +
    `<title>${escapeXml(title)}</title>`
  );
}

/** A horizontal (time) axis at `y`, ticks and labels from the d3 scale. */
export function xAxis(scale: ScaleLinear<number, number>, y: number, count: number, unit: string): string {
  const ticks = scale.ticks(count);
  const format = scale.tickFormat(count);
  const [r0, r1] = scale.range() as [number, number];
  let out = `<g class="axis" fill="#444"><line x1="${fmtCoord(r0)}" x2="${fmtCoord(r1)}" y1="${fmtCoord(y)}" y2="${fmtCoord(y)}" stroke="#777"/>`;
  for (const t of ticks) {
    const x = fmtCoord(scale(t));
    out += `<line x1="${x}" x2="${x}" y1="${fmtCoord(y)}" y2="${fmtCoord(y + 4)}" stroke="#777"/>`;
    out += `<text x="${x}" y="${fmtCoord(y + 15)}" text-anchor="middle">${escapeXml(format(t))}</text>`;
  }
  out += `<text x="${fmtCoord(r1)}" y="${fmtCoord(y + 28)}" text-anchor="end" fill="#666">${escapeXml(unit)}</text></g>`;
  return out;
}

/** A vertical (value) axis at `x` with light grid lines across to `xEnd`. */
export function yAxis(scale: ScaleLinear<number, number>, x: number, xEnd: number, count: number): string {
  const ticks = scale.ticks(count).filter((t) => Number.isInteger(t) || scale.domain()[1]! < 5);
  const format = scale.tickFormat(count);
  let out = '<g class="axis" fill="#444">';
  for (const t of ticks) {
    const y = fmtCoord(scale(t));
    out += `<line x1="${fmtCoord(x)}" x2="${fmtCoord(xEnd)}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`;
    out += `<text x="${fmtCoord(x - 4)}" y="${y}" dy="0.32em" text-anchor="end">${escapeXml(format(t))}</text>`;
  }
  return `${out}</g>`;
}

/** A legend row of coloured squares and labels starting at (x, y); wraps at `maxWidth`. Returns markup and height. */
export function legend(
  items: readonly { readonly label: string; readonly color: string; readonly dashed?: boolean }[],
  x: number,
  y: number,
  maxWidth: number,
): { readonly svg: string; readonly height: number } {
  let cx = x;
  let cy = y;
  let out = '<g class="legend">';
  for (const item of items) {
    const w = 18 + item.label.length * 6.4 + 14;
    if (cx + w > x + maxWidth && cx > x) {
      cx = x;
      cy += 16;
    }
    out += item.dashed
      ? `<line x1="${fmtCoord(cx)}" x2="${fmtCoord(cx + 12)}" y1="${fmtCoord(cy + 5)}" y2="${fmtCoord(cy + 5)}" stroke="${item.color}" stroke-width="2" stroke-dasharray="3 2"/>`
      : `<rect x="${fmtCoord(cx)}" y="${fmtCoord(cy)}" width="11" height="11" fill="${item.color}"/>`;
    out += `<text x="${fmtCoord(cx + 16)}" y="${fmtCoord(cy + 9.5)}">${escapeXml(item.label)}</text>`;
    cx += w;
  }
  return { svg: `${out}</g>`, height: cy - y + 16 };
}

/** Rounds every number in a d3-shape path string to 2 decimals (d3 emits full precision). */
export function roundPath(d: string | null): string {
  if (d === null) return '';
  return d.replace(/-?\d+(?:\.\d+)?(?:e-?\d+)?/g, (m) => fmtCoord(Number(m)));
}
