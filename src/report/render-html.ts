/**
 * Report stage, part 2: the HTML renderer. A pure function of an {@link AnalysisReport}: builds
 * the view model, draws the SVG charts, and fills the handlebars templates of `templates/`.
 * The result is one self-contained HTML file (inline CSS, inline SVG, one small optional script,
 * a Content-Security-Policy that forbids every external request) that reads fine without
 * JavaScript and when printed.
 *
 * Templates are read once, at module load, from `templates/` next to `src/` or `dist/`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { SCHEMA } from './model.ts';
import type { AnalysisReport } from './model.ts';
import type { TcpState } from '../tcp/types.ts';
import { buildReportView } from './view-model.ts';
import type { FlowViewPass, ReportView, ReportViewOptions, StateSeries } from './view-model.ts';
import { sanitizeJson } from './sanitize-json.ts';
import { fmtDuration, fmtInt, fmtMs, fmtRelSeconds, plural } from './format.ts';
import { renderLadder } from './svg/ladder.ts';
import { renderDensity, renderSwimlane } from './svg/swimlane.ts';
import { renderSeriesChart } from './svg/series-chart.ts';
import { renderRttHistogram } from './svg/histogram.ts';
import { STATE_COLORS } from './svg/common.ts';

/** Options of {@link renderHtml}: caps of the view model (see `DEFAULT_VIEW_OPTIONS`). */
export type RenderHtmlOptions = Partial<ReportViewOptions>;

// src/report/render-html.ts and dist/report/render-html.js both sit two levels below the package root.
const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));
const read = (name: string): string => readFileSync(TEMPLATE_DIR + name, 'utf8');

const hbs = Handlebars.create();
for (const name of ['findings', 'capture', 'timelines', 'charts', 'services', 'connections']) {
  hbs.registerPartial(name, read(`partials/${name}.hbs`));
}
hbs.registerHelper('fmtInt', (v: unknown) => (typeof v === 'number' ? fmtInt(v) : String(v ?? '')));
hbs.registerHelper('join', (list: unknown, sep: unknown) =>
  Array.isArray(list) ? list.map(String).join(typeof sep === 'string' ? sep : ', ') : '',
);
hbs.registerHelper('stateColor', (s: unknown) => STATE_COLORS[s as TcpState] ?? '#999');
const template = hbs.compile(read('report.hbs'), { strict: false, preventIndent: true });
const CSS = read('assets/report.css');
const SCRIPT = read('assets/report.js');

/**
 * Findings shown as full cards, in rank order; the ones after are rows of a compact table (rank,
 * severity, title, endpoint, count, summary), each in full in the JSON result. Ladder diagrams are
 * drawn for carded findings only (the ladder limit is lower anyway).
 */
export const FINDING_CARDS = 100;
/**
 * From this many findings the findings section opens with a table of their kinds (see
 * FindingKindView); fewer fit on a screen as they are.
 */
export const FINDING_OVERVIEW_FROM = 4;

type Safe = InstanceType<typeof Handlebars.SafeString>;
const safe = (html: string): Safe => new hbs.SafeString(html);

function populationSeries(series: readonly StateSeries[]): { label: string; color: string; values: readonly number[] }[] {
  return series.map((s) => ({ label: s.state, color: STATE_COLORS[s.state], values: s.values }));
}

/** Builds the template context: the view model plus the SVG of every chart. */
function contextOf(view: ReportView): Record<string, unknown> {
  const bins = view.bins;
  const binText = fmtDuration(bins.widthSeconds);
  const per = `per ${binText}`;
  // One group per finding that names connections, in finding rank order: its own ladders, or
  // links to the diagrams already drawn for an earlier finding.
  const ladderGroups: { id: string; title: string; anchor: string; items: unknown[]; refs: number[]; note: string }[] = [];
  const groupOf = new Map<string, (typeof ladderGroups)[number]>();
  const ladderLinks = new Map<string, number[]>();
  // Cards (and ladder groups) for the first findings; the rest are rows of one table (see
  // FINDING_CARDS): a storm of a thousand findings made a 6 MB report of near-identical cards.
  const cardViews = view.findings.slice(0, FINDING_CARDS);
  for (const fv of cardViews) {
    if (fv.finding.flows.length === 0 || groupOf.has(fv.anchor)) continue;
    const group = { id: fv.finding.id, title: fv.finding.title, anchor: fv.anchor, items: [] as unknown[], refs: [] as number[], note: '' };
    groupOf.set(fv.anchor, group);
    ladderGroups.push(group);
  }
  for (const l of view.ladders) {
    const group = groupOf.get(l.findingAnchor);
    if (group === undefined) continue;
    const f = l.flow;
    group.items.push({
      flowId: f.id,
      heading: l.heading,
      start: fmtRelSeconds(l.startRel, 3),
      summary:
        `handshake ${f.handshake.replace(/_/g, ' ')}, ${f.connState}, history ${f.history || '–'}, ` +
        `lasted ${fmtDuration(f.durationSeconds)}` +
        (f.segmentsOmitted > 0 ? `, ${plural(f.segmentsOmitted, 'segment')} not sampled` : ''),
      svg: safe(renderLadder(f)),
    });
    ladderLinks.set(l.findingAnchor, [...(ladderLinks.get(l.findingAnchor) ?? []), f.id]);
  }
  for (const r of view.ladderRefs) {
    const group = groupOf.get(r.findingAnchor);
    if (group === undefined) continue;
    if (!group.refs.includes(r.flowId)) group.refs.push(r.flowId);
    ladderLinks.set(r.findingAnchor, [...(ladderLinks.get(r.findingAnchor) ?? []), r.flowId]);
  }
  for (const g of ladderGroups) {
    if (g.items.length === 0 && g.refs.length === 0) g.note = 'No diagram: the ladder limit of this report was reached; the connections are in the table.';
  }
  const findings = cardViews.map((fv) => ({ ...fv, ladders: ladderLinks.get(fv.anchor) ?? [] }));
  const moreFindings = view.findings.slice(FINDING_CARDS);

  const sw = view.swimlane;
  const swimlane =
    sw.mode === 'rows' && sw.rows.length === 0
      ? { svg: safe(''), caption: 'No connection to draw: the capture has none.' }
      : sw.mode === 'rows'
      ? {
          svg: safe(renderSwimlane(sw.rows, sw.durationSeconds)),
          caption:
            `One row per connection (${plural(sw.rows.length, 'connection')}), ordered by start; upper bar the client's state, ` +
            'lower bar the server\u2019s. Rows in red are named by a finding.',
        }
      : {
          svg: safe(renderDensity(sw.bins, sw.client, sw.server, sw.flows)),
          caption:
            `${fmtInt(sw.flows)} connections are too many for one row each: each cell shows how many connection ` +
            `endpoints were in that state on average during the bin (${per}); darker = more, relative to the row's peak.`,
        };

  const charts: { svg: Safe; caption?: string }[] = [
    {
      svg: safe(
        renderSeriesChart({
          title: 'Connections opened, closed and reset',
          bins,
          yLabel: per,
          stacked: false,
          series: [
            { label: 'opened', color: '#1e78d2', values: view.series.opened },
            { label: 'closed (FIN)', color: '#2e9d4a', values: view.series.closed },
            { label: 'reset (RST)', color: '#c62828', values: view.series.reset },
          ],
        }),
      ),
    },
    {
      svg: safe(
        renderSeriesChart({
          title: 'SYN and SYN-ACK retransmissions',
          bins,
          yLabel: per,
          stacked: false,
          series: [
            { label: 'SYN retransmissions', color: '#e65100', values: view.series.synRetransmissions },
            { label: 'SYN-ACK retransmissions', color: '#6a1b9a', values: view.series.synAckRetransmissions, dashed: true },
          ],
        }),
      ),
    },
  ];
  if (view.rtt !== null) {
    charts.push({
      svg: safe(renderRttHistogram(view.rtt, 'Handshake RTT distribution')),
      caption: `Median ${fmtMs(view.rtt.medianMs)}, p95 ${fmtMs(view.rtt.p95Ms)}, max ${fmtMs(view.rtt.maxMs)} (SYN to the client's ACK).`,
    });
  } else {
    charts.push({ svg: safe(''), caption: 'No handshake RTT could be measured (no complete handshake in the capture).' });
  }
  charts.push({
    svg: safe(
      renderSeriesChart({
        title: 'All connections: client side, by state',
        bins,
        yLabel: per,
        stacked: true,
        series: populationSeries(view.population.client),
      }),
    ),
  });

  const population = view.hosts.map((h) => ({
    svg: safe(
      renderSeriesChart({
        title: `${h.host} (${plural(h.connections, 'connection')})`,
        bins,
        yLabel: per,
        stacked: true,
        series: populationSeries(h.series),
      }),
    ),
  }));

  const services = view.services.map((s) => ({
    ...s,
    rttText:
      s.rtt === null
        ? 'not measured'
        : `median ${fmtMs(s.rtt.medianMs)}, p95 ${fmtMs(s.rtt.p95Ms)} (${plural(s.rtt.samples, 'handshake')})`,
    svg: safe(
      renderSeriesChart({
        title: 'opened / reset',
        bins,
        yLabel: per,
        stacked: false,
        compact: true,
        width: 420,
        height: 70,
        series: [
          { label: 'opened', color: '#1e78d2', values: s.opened },
          { label: 'reset', color: '#c62828', values: s.reset },
        ],
      }),
    ),
  }));

  const t = view.table;
  const tableNote =
    t.omitted > 0
      ? `${fmtInt(t.rows.length)} of ${fmtInt(t.total)} connections shown: those named by findings first, then failed ones, then the first by id; ${fmtInt(t.omitted)} ${t.omitted === 1 ? 'is' : 'are'} left out (the charts and the density timeline count them all).`
      : t.total === 0
        ? 'No connections.'
        : `All ${plural(t.total, 'connection')}. Click a column to sort.`;

  const data = {
    schema: view.schema,
    capture: { file: view.capture.file, comments: view.capture.comments },
    findings: cardViews.map((f) => ({ id: f.finding.id, anchor: f.anchor, wiresharkFilter: f.finding.wiresharkFilter })),
    table: { rows: t.rows.length, total: t.total, omitted: t.omitted },
  };

  return {
    view,
    css: safe(CSS),
    script: safe(SCRIPT),
    json: safe(sanitizeJson(data)),
    findings,
    moreFindings,
    findingCards: FINDING_CARDS,
    findingOverview: view.findings.length >= FINDING_OVERVIEW_FROM,
    qualityBanner: view.qualityItems.filter((q) => q.level !== 'info'),
    ladderGroups,
    laddersOmitted: view.laddersOmitted,
    swimlane,
    charts,
    population,
    services,
    tableNote,
    binText,
    binCountText: plural(bins.count, 'bin'),
  };
}

/** A report of nothing, rendered by {@link prepareRenderer}. */
const EMPTY_REPORT: AnalysisReport = {
  schema: SCHEMA,
  tool: { name: 'tcpmortem', version: '0' },
  capture: {
    file: '', format: 'pcap', compressed: false, byteOrder: '', version: '', sections: 0, interfaces: [], linkTypes: [],
    packets: 0, tcpPackets: 0, bytes: 0, capturedBytes: 0, firstTs: null, lastTs: null, durationSeconds: 0, drops: null,
    truncatedPackets: 0, timestampsBackwards: 0, skipped: {}, anomalies: {}, warnings: [], partial: false, comments: [],
  },
  flows: [],
  findings: [],
  detectors: [],
};

/**
 * Compiles the templates ahead of the first {@link renderHtml} (handlebars compiles a template and
 * its partials on first use: ~0.1 s), by rendering a report of nothing. For a caller with time to
 * spare before it can render: `tcpmortem report` while the diagnosis thread finishes (see
 * diagnoseForReport's `whileWaiting`).
 */
export function prepareRenderer(): void {
  template(contextOf(buildReportView(EMPTY_REPORT)));
}

/**
 * Renders the report as one self-contained HTML document. Pure: the same report (and options)
 * always give byte-identical output. Everything from the capture is escaped (handlebars for
 * HTML, {@link sanitizeJson} for the embedded JSON, `escapeXml` in the SVG).
 *
 * @param viewPass - the view's pass over `report.flows` when already made (see diagnoseForReport),
 *   with the same `options`; made here otherwise.
 */
export function renderHtml(report: AnalysisReport, options: RenderHtmlOptions = {}, viewPass?: FlowViewPass): string {
  return template(contextOf(buildReportView(report, options, viewPass)));
}
