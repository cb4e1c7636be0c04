/**
 * Timeline of all connections: one row per connection with each side's state as coloured
 * segments over capture time (client above, server below), or, for thousands of connections, a
 * density heatmap of how many connections each side had in each state per time bin.
 */
import { scaleLinear } from 'd3-scale';
import type { TcpState } from '../../tcp/types.ts';
import type { StateInterval, StateSeries, SwimlaneRow, TimeBins } from '../view-model.ts';
import { fmtInt, trimFixed } from '../format.ts';
import { MONO, STATE_COLORS, STATE_ORDER, c, escapeXml, legend, svgOpen, xAxis } from './common.ts';

const WIDTH = 960;
const LABEL_W = 300;
const RIGHT = 16;
const ROW = 16;

function statesIn(rows: readonly SwimlaneRow[]): TcpState[] {
  const set = new Set<TcpState>();
  for (const r of rows) for (const iv of [...r.client, ...r.server]) set.add(iv.state);
  return STATE_ORDER.filter((s) => set.has(s));
}

/** Swimlane of `rows` (one per connection) over `durationSeconds` of capture. */
export function renderSwimlane(rows: readonly SwimlaneRow[], durationSeconds: number): string {
  const states = statesIn(rows);
  const lg = legend(
    states.map((s) => ({ label: s, color: STATE_COLORS[s] })),
    LABEL_W,
    6,
    WIDTH - LABEL_W - RIGHT,
  );
  const top = 12 + lg.height;
  const height = top + rows.length * ROW + 40;
  const x = scaleLinear()
    .domain([0, durationSeconds > 0 ? durationSeconds : 1])
    .range([LABEL_W, WIDTH - RIGHT]);
  let out = svgOpen(WIDTH, height, `Timeline of ${rows.length} ${rows.length === 1 ? 'connection' : 'connections'}, each side's state over time`, 'swimlane');
  out += `<text x="8" y="15" fill="#555">upper bar: client, lower: server</text>`;
  out += lg.svg;
  const bar = (iv: StateInterval, y: number, h: number): string => {
    const x0 = x(iv.start);
    const w = Math.max(1, x(iv.end) - x0);
    return `<rect x="${c(x0)}" y="${c(y)}" width="${c(w)}" height="${h}" fill="${STATE_COLORS[iv.state]}"><title>${iv.state}</title></rect>`;
  };
  rows.forEach((row, i) => {
    const y = top + i * ROW;
    out += `<g class="lane" data-flow="${row.flowId}">`;
    if (i % 2 === 1) out += `<rect x="0" y="${y}" width="${WIDTH}" height="${ROW}" fill="#f6f6f6"/>`;
    const weight = row.flagged ? ' font-weight="700" fill="#b71c1c"' : '';
    out += `<text x="${LABEL_W - 6}" y="${y + 11.5}" text-anchor="end" ${MONO} font-size="10"${weight}>${escapeXml(row.label)}</text>`;
    for (const iv of row.client) out += bar(iv, y + 2, 6);
    for (const iv of row.server) out += bar(iv, y + 8, 6);
    out += '</g>';
  });
  out += xAxis(x, top + rows.length * ROW + 4, 10, 'seconds since capture start');
  return `${out}</svg>`;
}

/**
 * Density heatmap: for each side and state, one row of cells per time bin; a cell's opacity is
 * its count relative to the largest count of that row, and the row's peak is printed at the end.
 */
export function renderDensity(
  bins: TimeBins,
  client: readonly StateSeries[],
  server: readonly StateSeries[],
  flows: number,
): string {
  const states = STATE_ORDER.filter((s) => client.some((x) => x.state === s) || server.some((x) => x.state === s));
  const lg = legend(states.map((s) => ({ label: s, color: STATE_COLORS[s] })), 150, 6, WIDTH - 150 - RIGHT);
  const right = WIDTH - 90;
  const x = scaleLinear()
    .domain([0, bins.count * bins.widthSeconds])
    .range([150, right]);
  const blocks = [
    { name: 'client side', series: client },
    { name: 'server side', series: server },
  ];
  let y = 20 + lg.height;
  const rowsTotal = client.length + server.length;
  const height = y + rowsTotal * 18 + blocks.length * 22 + 40;
  let out = svgOpen(WIDTH, height, `Density of connection states over time for ${fmtInt(flows)} connections`, 'density');
  out += lg.svg;
  const cellW = (right - 150) / bins.count;
  for (const block of blocks) {
    out += `<text x="8" y="${y + 12}" font-weight="600">${block.name}</text>`;
    y += 18;
    for (const s of block.series) {
      const peak = Math.max(...s.values, 0);
      out += `<text x="142" y="${y + 11}" text-anchor="end" font-size="10">${s.state}</text>`;
      out += `<rect x="150" y="${y}" width="${c(right - 150)}" height="15" fill="#fafafa" stroke="#eee"/>`;
      s.values.forEach((v, i) => {
        if (v <= 0 || peak <= 0) return;
        const opacity = 0.12 + (0.88 * v) / peak;
        out += `<rect x="${c(150 + i * cellW)}" y="${y}" width="${c(cellW + 0.2)}" height="15" fill="${STATE_COLORS[s.state]}" fill-opacity="${c(opacity)}"><title>${s.state}: ${v >= 10 ? fmtInt(v) : trimFixed(v, 2)}</title></rect>`;
      });
      out += `<text x="${right + 6}" y="${y + 11}" font-size="10" fill="#444">peak ${peak >= 10 ? fmtInt(peak) : trimFixed(peak, 2)}</text>`;
      y += 18;
    }
    y += 4;
  }
  out += xAxis(x, y + 2, 10, 'seconds since capture start');
  return `${out}</svg>`;
}
