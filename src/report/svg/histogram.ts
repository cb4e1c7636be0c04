/** Histogram of handshake round-trip times, with the median and p95 marked. */
import { scaleLinear } from 'd3-scale';
import type { RttStats } from '../view-model.ts';
import { fmtMs } from '../format.ts';
import { c, escapeXml, svgOpen, xAxis, yAxis } from './common.ts';

/** Renders `stats` as an `<svg>` bar chart; `title` names what was measured. */
export function renderRttHistogram(stats: RttStats, title: string, width = 460, plotH = 150): string {
  const left = 46;
  const right = 12;
  const top = 34;
  const height = top + plotH + 40;
  const first = stats.histogram[0];
  const last = stats.histogram[stats.histogram.length - 1];
  const x = scaleLinear()
    .domain([first?.x0 ?? 0, last?.x1 ?? 1])
    .range([left, width - right]);
  const maxCount = Math.max(1, ...stats.histogram.map((b) => b.count));
  const y = scaleLinear().domain([0, maxCount]).nice(4).range([top + plotH, top]);
  let out = svgOpen(width, height, title, 'chart histogram');
  out += `<text x="${left}" y="13" font-weight="600">${escapeXml(title)}</text>`;
  out += `<text x="${width - right}" y="13" text-anchor="end" fill="#666" font-size="10">${stats.samples} ${stats.samples === 1 ? 'handshake' : 'handshakes'}</text>`;
  out += yAxis(y, left, width - right, 4);
  for (const b of stats.histogram) {
    if (b.count === 0) continue;
    const x0 = x(b.x0);
    const w = Math.max(1, x(b.x1) - x0 - 1);
    out += `<rect x="${c(x0 + 0.5)}" y="${c(y(b.count))}" width="${c(w)}" height="${c(top + plotH - y(b.count))}" fill="#4a78b5"><title>${escapeXml(`${fmtMs(b.x0)}–${fmtMs(b.x1)}: ${b.count}`)}</title></rect>`;
  }
  const marks = [
    { v: stats.medianMs, label: `median ${fmtMs(stats.medianMs)}`, color: '#2e7d32', dy: 0 },
    { v: stats.p95Ms, label: `p95 ${fmtMs(stats.p95Ms)}`, color: '#c62828', dy: 11 },
  ];
  for (const m of marks) {
    const mx = c(x(m.v));
    out += `<line x1="${mx}" x2="${mx}" y1="${top - 4}" y2="${top + plotH}" stroke="${m.color}" stroke-dasharray="4 3" stroke-width="1.2"/>`;
    const anchor = x(m.v) > width * 0.7 ? 'end' : 'start';
    const tx = anchor === 'end' ? x(m.v) - 4 : x(m.v) + 4;
    out += `<text x="${c(tx)}" y="${top + 6 + m.dy}" text-anchor="${anchor}" fill="${m.color}" font-size="10">${escapeXml(m.label)}</text>`;
  }
  out += xAxis(x, top + plotH, 6, 'handshake RTT (ms)');
  return `${out}</svg>`;
}
