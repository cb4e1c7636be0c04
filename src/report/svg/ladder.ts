/**
 * Ladder (sequence) diagram of one connection: client and server as two vertical lines, every
 * sampled segment an arrow between them with its flags, numbers, relative time and frame number,
 * retransmissions dashed red, and each endpoint's RFC 9293 state drawn along its line as it changes.
 */
import type { FlowRecord, SegmentSample, Side, TcpState } from '../../tcp/types.ts';
import { fmtEndpoint } from '../format.ts';
import { STATE_COLORS, MONO, c, escapeXml, svgOpen, legend } from './common.ts';

const WIDTH = 760;
const CLIENT_X = 250;
const SERVER_X = 590;
const ROW = 28;
const TOP = 58;

interface Row {
  readonly kind: 'segment' | 'gap';
  readonly segment?: SegmentSample;
  readonly omitted?: number;
}

/** Label of a segment: flags, then the numbers a support engineer reads in Wireshark. */
export function segmentLabel(s: SegmentSample): string {
  const parts = [s.flags, `seq=${s.seq}`];
  if (s.ack >= 0) parts.push(`ack=${s.ack}`);
  if (s.len > 0) parts.push(`len=${s.len}`);
  parts.push(`win=${s.window}`);
  return parts.join(' ');
}

function rowsOf(flow: FlowRecord): Row[] {
  const segs = flow.segments;
  const rows: Row[] = [];
  // Samples are "the first ones, then the last ones": the omitted segments sit at the largest
  // frame jump between two consecutive samples.
  let gapAfter = -1;
  if (flow.segmentsOmitted > 0 && segs.length > 1) {
    let best = -1;
    for (let i = 0; i + 1 < segs.length; i += 1) {
      const jump = segs[i + 1]!.frame - segs[i]!.frame;
      if (jump > best) {
        best = jump;
        gapAfter = i;
      }
    }
  }
  segs.forEach((segment, i) => {
    rows.push({ kind: 'segment', segment });
    if (i === gapAfter) rows.push({ kind: 'gap', omitted: flow.segmentsOmitted });
  });
  if (flow.segmentsOmitted > 0 && gapAfter < 0) rows.push({ kind: 'gap', omitted: flow.segmentsOmitted });
  return rows;
}

/** Index of the row a transition belongs to: the first segment row with frame ≥ the transition's frame. */
function rowOfFrame(rows: readonly Row[], frame: number): number {
  for (let i = 0; i < rows.length; i += 1) {
    const s = rows[i]!.segment;
    if (s !== undefined && s.frame >= frame) return i;
  }
  return rows.length; // after the last sample: drawn on the closing row
}

/** Renders the ladder diagram of `flow` as a standalone `<svg>` string. Deterministic. */
export function renderLadder(flow: FlowRecord): string {
  const rows = rowsOf(flow);
  const height = TOP + (rows.length + 1) * ROW + 40;
  const x: Record<Side, number> = { client: CLIENT_X, server: SERVER_X };
  const clientName = fmtEndpoint(flow.client.ip, flow.client.port);
  const serverName = fmtEndpoint(flow.server.ip, flow.server.port);
  let out = svgOpen(WIDTH, height, `Ladder diagram of connection #${flow.id}, ${clientName} to ${serverName}`, 'ladder');

  // Header.
  out += `<text x="${CLIENT_X}" y="16" text-anchor="middle" font-weight="600">client</text>`;
  out += `<text x="${CLIENT_X}" y="31" text-anchor="middle" ${MONO} font-size="10.5">${escapeXml(clientName)}</text>`;
  out += `<text x="${SERVER_X}" y="16" text-anchor="middle" font-weight="600">server</text>`;
  out += `<text x="${SERVER_X}" y="31" text-anchor="middle" ${MONO} font-size="10.5">${escapeXml(serverName)}</text>`;
  out += `<text x="8" y="16" font-weight="600">time (s)</text><text x="8" y="31" fill="#555">from first packet</text>`;
  out += `<text x="96" y="16" font-weight="600">frame</text>`;

  // State bands along each line, from the transitions.
  const bottom = TOP + rows.length * ROW + ROW;
  for (const side of ['client', 'server'] as const) {
    const ts = flow.transitions.filter((t) => t.side === side);
    let state: TcpState = ts[0]?.from ?? flow.finalState[side];
    let y0 = TOP - 8;
    const bands: { state: TcpState; y0: number; y1: number }[] = [];
    const labels: { state: TcpState; y: number; inferred: boolean }[] = [{ state, y: y0, inferred: false }];
    for (const t of ts) {
      const y = TOP + rowOfFrame(rows, t.frame) * ROW;
      bands.push({ state, y0, y1: y });
      state = t.to;
      y0 = y;
      labels.push({ state, y, inferred: t.inferred });
    }
    bands.push({ state, y0, y1: bottom });
    out += `<line x1="${x[side]}" x2="${x[side]}" y1="${TOP - 8}" y2="${c(bottom)}" stroke="#333" stroke-width="1"/>`;
    for (const b of bands) {
      if (b.y1 <= b.y0) continue;
      out += `<rect x="${x[side] - 3}" y="${c(b.y0)}" width="6" height="${c(b.y1 - b.y0)}" fill="${STATE_COLORS[b.state]}"/>`;
    }
    // Labels: left of the client line, right of the server line. States that change on the same
    // row (CLOSE_WAIT then LAST_ACK at once) are joined with an arrow, so none is hidden.
    const groups: (typeof labels)[] = [];
    for (const l of labels) {
      const last = groups[groups.length - 1];
      if (last !== undefined && l.y - last[last.length - 1]!.y < 12) last.push(l);
      else groups.push([l]);
    }
    for (const g of groups) {
      const anchor = side === 'client' ? 'end' : 'start';
      const lx = side === 'client' ? x[side] - 8 : x[side] + 8;
      const y = g[g.length - 1]!.y;
      const spans = g
        .map((l) => {
          const text = l.inferred ? `${l.state} (inferred)` : l.state;
          return `<tspan fill="${darken(STATE_COLORS[l.state])}"${l.inferred ? ' font-style="italic"' : ''}>${escapeXml(text)}</tspan>`;
        })
        .join('<tspan fill="#666"> → </tspan>');
      out += `<text x="${lx}" y="${c(y + 4)}" text-anchor="${anchor}" font-size="10.5" font-weight="600">${spans}</text>`;
    }
  }

  // Arrows.
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    if (row.kind === 'gap') {
      out += `<text x="${(CLIENT_X + SERVER_X) / 2}" y="${y + 14}" text-anchor="middle" fill="#666" font-style="italic">… ${row.omitted ?? 0} segments omitted …</text>`;
      return;
    }
    const s = row.segment!;
    const from = x[s.from];
    const to = s.from === 'client' ? x.server : x.client;
    const y1 = y;
    const y2 = y + 14;
    const retx = s.retransmission !== undefined;
    const color = retx ? '#c62828' : s.flags.includes('R') ? '#b71c1c' : '#222';
    const dash = retx ? ' stroke-dasharray="6 4"' : '';
    const dir = to > from ? 1 : -1;
    const tipX = to - dir * 5;
    out += `<line x1="${from + dir * 5}" y1="${y1}" x2="${c(tipX)}" y2="${c(y2)}" stroke="${color}" stroke-width="1.4"${dash}/>`;
    // Arrow head as a polygon (no <marker>: ids would clash between diagrams on one page).
    const angle = Math.atan2(y2 - y1, tipX - (from + dir * 5));
    const hx1 = tipX - 8 * Math.cos(angle - 0.4);
    const hy1 = y2 - 8 * Math.sin(angle - 0.4);
    const hx2 = tipX - 8 * Math.cos(angle + 0.4);
    const hy2 = y2 - 8 * Math.sin(angle + 0.4);
    out += `<polygon points="${c(tipX)},${c(y2)} ${c(hx1)},${c(hy1)} ${c(hx2)},${c(hy2)}" fill="${color}"/>`;
    const label = segmentLabel(s) + (retx ? `  ↻ ${s.retransmission} retransmission` : '');
    out += `<text x="${(CLIENT_X + SERVER_X) / 2}" y="${y1 + 1}" text-anchor="middle" ${MONO} font-size="10" fill="${color}" stroke="#fff" stroke-width="3" paint-order="stroke" class="seg-label">${escapeXml(label)}</text>`;
    out += `<text x="82" y="${y1 + 10}" text-anchor="end" ${MONO} font-size="10">${s.relSeconds.toFixed(6)}</text>`;
    out += `<text x="96" y="${y1 + 10}" ${MONO} font-size="10" fill="#555">#${s.frame}</text>`;
  });

  // Below the two lines, so the text never crosses them.
  const foot = TOP + rows.length * ROW + ROW - 4;
  const final = `final: client ${flow.finalState.client}, server ${flow.finalState.server} (${flow.closeReason.replace(/_/g, ' ')})`;
  out += `<text x="${WIDTH - 8}" y="${foot + 14}" text-anchor="end" fill="#333" font-weight="600">${escapeXml(final)}</text>`;
  const notes: string[] = [];
  if (flow.segments.length === 0) notes.push('no segments were sampled for this connection');
  if (flow.segmentsOmitted > 0) notes.push(`${flow.segmentsOmitted} segments omitted (only the first and last are kept)`);
  if (flow.transitionsOmitted > 0) notes.push(`${flow.transitionsOmitted} state transitions omitted`);
  const lg = legend(
    [
      { label: 'segment', color: '#222', dashed: false },
      { label: 'retransmission', color: '#c62828', dashed: true },
    ],
    8,
    foot + 6,
    300,
  );
  out += lg.svg;
  if (notes.length > 0) {
    out += `<text x="${WIDTH - 8}" y="${foot + 30}" text-anchor="end" fill="#666" font-style="italic">${escapeXml(notes.join('; '))}</text>`;
  }
  return `${out}</svg>`;
}

/** A darker shade of a state colour for text, so labels stay legible on white and in print. */
function darken(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const f = (v: number): string => Math.round(v * 0.72).toString(16).padStart(2, '0');
  return `#${f((n >> 16) & 255)}${f((n >> 8) & 255)}${f(n & 255)}`;
}
