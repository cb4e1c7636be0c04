/**
 * Plain-text and tabular renderings for the terminal commands (`info`, `flows`, `netstat`).
 * Pure string builders: the caller writes them. The `flows` listings are generators of lines, so
 * a listing of every connection of a large capture is written as it is read, never held whole.
 */
import type { AnalysisReport, CaptureFacts } from '../report/model.ts';
import type { NetstatSnapshot } from '../query/index.ts';
import type { FlowRecord } from '../tcp/types.ts';
import { plural, vlanText } from '../report/format.ts';
import { formatIsoTimestamp, parseIsoTimestamp } from '../common/time.ts';
import { packetSeconds } from '../tcp/packet-seconds.ts';

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** Column widths that fit `header` and every row (a loop, not a spread: rows may be many). */
function columnWidths(header: readonly string[], rows: Iterable<readonly string[]>): number[] {
  const widths = header.map((h) => h.length);
  for (const row of rows) {
    for (let i = 0; i < widths.length; i += 1) widths[i] = Math.max(widths[i]!, (row[i] ?? '').length);
  }
  return widths;
}

/** One line of aligned columns: every cell but the last padded to its width, no trailing blanks. */
function columnLine(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0))).join('  ').trimEnd();
}

/** Renders rows as aligned columns, header first. */
export function formatColumns(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = columnWidths(header, rows);
  return [columnLine(header, widths), ...rows.map((r) => columnLine(r, widths))].join('\n') + '\n';
}

function endpointText(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** `tcpmortem info` in text, in the spirit of capinfos. */
export function formatInfo(c: CaptureFacts): string {
  const rows: [string, string][] = [
    ['File', c.file],
    ['Format', `${c.format}${c.compressed ? ' (gzip)' : ''} ${c.version}, ${c.byteOrder}${c.sections > 1 ? `, ${c.sections} sections` : ''}`],
    ['Packets', String(c.packets)],
    ['TCP packets', String(c.tcpPackets)],
    ['Bytes (wire / captured)', `${c.bytes} / ${c.capturedBytes}`],
    ['First packet', c.firstTs ?? '-'],
    ['Last packet', c.lastTs ?? '-'],
    ['Duration', `${c.durationSeconds} s`],
    ['Capture drops', c.drops === null ? 'not reported' : String(c.drops)],
    ['Truncated by snaplen', String(c.truncatedPackets)],
    ['Timestamps going back', String(c.timestampsBackwards)],
  ];
  let out = rows.map(([k, v]) => `${pad(`${k}:`, 26)}${v}`).join('\n') + '\n';
  out += `Interfaces:\n`;
  for (const i of c.interfaces) {
    const drops = i.drops === undefined ? '' : `, drops if=${i.drops.interface ?? '-'} os=${i.drops.os ?? '-'}`;
    out += `  #${i.id}${i.name !== undefined ? ` ${i.name}` : ''}: ${i.linkTypeName} (${i.linkType}), snaplen ${i.snapLength}, ts ${i.tsResolution}, ${plural(i.packets, 'packet')}${drops}\n`;
  }
  const skipped = Object.entries(c.skipped);
  if (skipped.length > 0) out += `Not analysed:\n${skipped.map(([k, v]) => `  ${k}: ${v}\n`).join('')}`;
  const anomalies = Object.entries(c.anomalies);
  if (anomalies.length > 0) out += `Anomalies:\n${anomalies.map(([k, v]) => `  ${k}: ${v}\n`).join('')}`;
  if (c.warnings.length > 0) {
    out += `Warnings:\n${c.warnings.map((w) => `  ${w.code} at byte ${w.byteOffset}: ${w.message}\n`).join('')}`;
  }
  if (c.partial) out += `Result is PARTIAL: reading stopped before the end of the input.\n`;
  return out;
}

/** Columns of the `flows` table; `vlan` only when a row is VLAN-tagged (see formatFlowsTable). */
const FLOW_HEADER = ['id', 'client', 'server', 'vlan', 'client state', 'server state', 'handshake', 'conn', 'history', 'pkts', 'start'];
const VLAN_COLUMN = 3;

function flowRow(f: FlowRecord): string[] {
  return [
    String(f.id),
    endpointText(f.client.ip, f.client.port),
    endpointText(f.server.ip, f.server.port),
    vlanText(f.vlan),
    f.finalState.client,
    f.finalState.server,
    f.handshake,
    f.connState,
    f.history,
    String(f.packets.client + f.packets.server),
    f.start,
  ];
}

/**
 * The `flows` table, a line at a time (each with its newline), then the `N flows` footer: the
 * same text as aligned columns over all rows. Iterates `flows` twice, first to size the columns
 * over every row, then to print, so the memory stays bounded whatever the number of rows; `flows`
 * must yield the same records both times (e.g. `matchingFlows`). Two passes cost a second build
 * of each record, which we prefer to holding every row or to widths that change after a page.
 */
export function* formatFlowsTable(flows: Iterable<FlowRecord>): Generator<string, void, undefined> {
  let count = 0;
  let tagged = false;
  const widths = columnWidths(
    FLOW_HEADER,
    rowsOf(flows, (f) => {
      count += 1;
      if (f.vlan >= 0) tagged = true;
    }),
  );
  // The vlan column only when a flow is tagged: the same 4-tuple on two VLANs is two flows, and
  // without it their rows would read the same.
  const shown = <T>(cells: readonly T[]): T[] => cells.filter((_, i) => tagged || i !== VLAN_COLUMN);
  const shownWidths = shown(widths);
  yield `${columnLine(shown(FLOW_HEADER), shownWidths)}\n`;
  for (const f of flows) yield `${columnLine(shown(flowRow(f)), shownWidths)}\n`;
  yield `${plural(count, 'flow')}\n`;
}

function* rowsOf(flows: Iterable<FlowRecord>, onRow: (f: FlowRecord) => void): Generator<string[], void, undefined> {
  for (const f of flows) {
    onRow(f);
    yield flowRow(f);
  }
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Columns of the `flows` CSV; new ones go last, so a consumer reading by position keeps working. */
const CSV_HEADER = ['id', 'client_ip', 'client_port', 'server_ip', 'server_port', 'incarnation', 'client_state', 'server_state', 'handshake', 'conn_state', 'history', 'packets_client', 'packets_server', 'bytes_client', 'bytes_server', 'start', 'end', 'syn_retransmissions', 'synack_retransmissions', 'fin_retransmissions', 'rtt_ms', 'vlan'];

/** The `flows` CSV, header first, a line at a time (each with its newline): one pass over `flows`. */
export function* formatFlowsCsv(flows: Iterable<FlowRecord>): Generator<string, void, undefined> {
  yield `${CSV_HEADER.join(',')}\n`;
  for (const f of flows) {
    const cells = [
      f.id, f.client.ip, f.client.port, f.server.ip, f.server.port, f.incarnation, f.finalState.client, f.finalState.server,
      f.handshake, f.connState, f.history, f.packets.client, f.packets.server, f.bytes.client, f.bytes.server, f.start, f.end,
      f.counts.synRetransmissions, f.counts.synAckRetransmissions, f.counts.finRetransmissions, f.rttMs?.total ?? '', vlanText(f.vlan),
    ];
    yield `${cells.map((v) => csvCell(String(v))).join(',')}\n`;
  }
}

/** The `flows` NDJSON: one compact JSON record per line, a line at a time; one pass over `flows`. */
export function* formatFlowsNdjson(flows: Iterable<FlowRecord>): Generator<string, void, undefined> {
  for (const f of flows) yield `${JSON.stringify(f)}\n`;
}

/** `tcpmortem netstat`: per host, the socket states at the instant, like `ss -tan | awk ...`. */
export function formatNetstat(snapshot: NetstatSnapshot, report: AnalysisReport): string {
  const firstTs = report.capture.firstTs === null ? undefined : parseIsoTimestamp(report.capture.firstTs);
  const first = firstTs === undefined ? snapshot.tSeconds : packetSeconds(firstTs.sec, firstTs.nanos);
  // With the capture's precision (the digits of its first time), as every time tcpmortem prints.
  const digits = /\.(\d+)Z$/.exec(report.capture.firstTs ?? '')?.[1]?.length ?? 6;
  const sec = Math.floor(snapshot.tSeconds);
  const unit = 10 ** (9 - digits);
  const nanos = Math.min(1e9 - unit, Math.round(((snapshot.tSeconds - sec) * 1e9) / unit) * unit);
  let out = `Sockets at ${formatIsoTimestamp(sec, nanos, digits)} (${(snapshot.tSeconds - first).toFixed(3)} s into the capture)\n`;
  out += formatColumns(['host', 'state', 'count'], snapshot.rows.map((r) => [r.host, r.state, String(r.count)]));
  if (snapshot.listeners.length > 0) out += `Listeners: ${snapshot.listeners.join(', ')}\n`;
  return out;
}

/** One capture's line in the combined summary of an audit (several captures at once). */
export type AuditRow =
  | {
      readonly file: string;
      readonly status: 'ok';
      readonly packets: number;
      readonly connections: number;
      /** Findings per severity. */
      readonly findings: { readonly error: number; readonly warning: number; readonly info: number };
      readonly partial: boolean;
    }
  | { readonly file: string; readonly status: 'unusable' | 'not_read'; readonly error: string };

/** The worst severity among a row's findings, `none` when it has none. */
export function worstSeverity(findings: { readonly error: number; readonly warning: number; readonly info: number }): string {
  return findings.error > 0 ? 'error' : findings.warning > 0 ? 'warning' : findings.info > 0 ? 'info' : 'none';
}

/** Totals over an audit's rows. */
export interface AuditTotals {
  readonly captures: number;
  readonly unusable: number;
  readonly notRead: number;
  readonly partial: number;
  readonly packets: number;
  readonly connections: number;
  readonly findings: { readonly error: number; readonly warning: number; readonly info: number };
  /** Worst finding severity over the usable captures (`none` without findings). */
  readonly worst: string;
}

export function auditTotals(rows: readonly AuditRow[]): AuditTotals {
  let unusable = 0;
  let notRead = 0;
  let partial = 0;
  let packets = 0;
  let connections = 0;
  const findings = { error: 0, warning: 0, info: 0 };
  for (const r of rows) {
    if (r.status === 'unusable') unusable++;
    else if (r.status === 'not_read') notRead++;
    if (r.status === 'ok') {
      if (r.partial) partial++;
      packets += r.packets;
      connections += r.connections;
      findings.error += r.findings.error;
      findings.warning += r.findings.warning;
      findings.info += r.findings.info;
    }
  }
  return { captures: rows.length, unusable, notRead, partial, packets, connections, findings, worst: worstSeverity(findings) };
}

/** The combined terminal summary of an audit: one line per capture, then the totals. */
export function formatAuditSummary(rows: readonly AuditRow[]): string {
  const cells = rows.map((r): string[] =>
    r.status !== 'ok'
      ? [r.file, '-', '-', '-', '-', '-', r.status === 'unusable' ? 'UNUSABLE' : 'not read', r.error]
      : [
          r.file,
          String(r.packets),
          String(r.connections),
          String(r.findings.error),
          String(r.findings.warning),
          String(r.findings.info),
          worstSeverity(r.findings),
          r.partial ? 'partial' : '',
        ],
  );
  const t = auditTotals(rows);
  const notes = [
    t.partial > 0 ? `${t.partial} partial` : '',
    t.unusable > 0 ? `${t.unusable} unusable` : '',
    t.notRead > 0 ? `${t.notRead} not read` : '',
  ].filter((n) => n !== '').join(', ');
  cells.push([
    `total (${t.captures} capture${t.captures === 1 ? '' : 's'})`,
    String(t.packets),
    String(t.connections),
    String(t.findings.error),
    String(t.findings.warning),
    String(t.findings.info),
    t.unusable > 0 ? 'UNUSABLE' : t.worst,
    notes,
  ]);
  return formatColumns(['capture', 'packets', 'connections', 'error', 'warning', 'info', 'worst', 'notes'], cells);
}
