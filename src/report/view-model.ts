/**
 * Report stage, part 1: derive everything the HTML shows from an {@link AnalysisReport}.
 *
 * The templates hold no analysis logic; every count, ranking, bin and cap is decided here, as a
 * pure function of the report (no clock, no randomness, stable ordering). The view model is
 * bounded whatever the size of the capture: time series have at most {@link MAX_BINS} bins, the
 * connection table and the swimlane are capped, ladders are drawn for a few flows per finding, and
 * every cap says what it left out.
 */
import { scaleLinear } from 'd3-scale';
import type { AnalysisReport } from './model.ts';
import type { Finding, Severity } from '../diagnose/types.ts';
import type { FlowRecord, Side, TcpState } from '../tcp/types.ts';
import { fmtDuration, fmtEndpoint, fmtInt, fmtMs, fmtRelSeconds, plural } from './format.ts';

/** Options of {@link buildReportView}; defaults in {@link DEFAULT_VIEW_OPTIONS}. */
export interface ReportViewOptions {
  /** Connection-table rows kept (flows named by findings first). Default 2000. */
  readonly maxTableRows: number;
  /** Above this many flows the all-connections timeline becomes a density heatmap. Default 300. */
  readonly maxSwimlaneRows: number;
  /** Ladder diagrams drawn per finding. Default 3. */
  readonly laddersPerFinding: number;
  /** Ladder diagrams drawn in total. Default 24. */
  readonly maxLadders: number;
  /** Services (server ip:port) given their own section. Default 12. */
  readonly maxServices: number;
  /** Hosts given a state-population ("virtual netstat") chart. Default 4. */
  readonly maxHosts: number;
}

export const DEFAULT_VIEW_OPTIONS: Readonly<ReportViewOptions> = {
  maxTableRows: 2000,
  maxSwimlaneRows: 300,
  laddersPerFinding: 3,
  maxLadders: 24,
  maxServices: 12,
  maxHosts: 4,
};

/** Upper bound on the number of time bins of every chart. */
export const MAX_BINS = 120;

/**
 * How long a side that ended in TIME_WAIT is drawn in it: Linux's TCP_TIMEWAIT_LEN (60 s,
 * include/net/tcp.h). The capture cannot show the timer expire, so without a cap every
 * TIME_WAIT would last to the end of the capture and the "virtual netstat" would overstate it.
 */
export const TIME_WAIT_DISPLAY_SECONDS = 60;

export type VerdictLevel = Severity | 'ok';

/** One state of one side over a time span, in seconds relative to the capture start. */
export interface StateInterval {
  readonly state: TcpState;
  readonly start: number;
  readonly end: number;
}

export interface FindingView {
  readonly finding: Finding;
  /** 1-based rank in the report. */
  readonly rank: number;
  /** Element id of the finding card: `finding-<n>`. */
  readonly anchor: string;
  readonly severityLabel: string;
  readonly framesText: string;
  readonly flowsText: string;
  readonly timeText: string;
  /** `details` as sorted key / JSON-value pairs, for a compact listing. */
  readonly details: readonly { readonly key: string; readonly value: string }[];
}

export interface LadderView {
  readonly findingId: string;
  readonly findingAnchor: string;
  readonly findingTitle: string;
  readonly flow: FlowRecord;
  readonly heading: string;
  /** Flow start relative to the capture start (seconds). */
  readonly startRel: number;
}

export interface SwimlaneRow {
  readonly flowId: number;
  readonly label: string;
  readonly client: readonly StateInterval[];
  readonly server: readonly StateInterval[];
  readonly flagged: boolean;
}

export type SwimlaneView =
  | { readonly mode: 'rows'; readonly rows: readonly SwimlaneRow[]; readonly durationSeconds: number }
  | {
      readonly mode: 'density';
      readonly bins: TimeBins;
      /** Per side and state, the average number of connections in that state during each bin. */
      readonly client: readonly StateSeries[];
      readonly server: readonly StateSeries[];
      readonly flows: number;
    };

export interface TimeBins {
  /** Bin width in seconds. */
  readonly widthSeconds: number;
  readonly count: number;
  /** Start of the first bin = the capture start, seconds since the epoch. */
  readonly originSeconds: number;
  readonly durationSeconds: number;
}

export interface StateSeries {
  readonly state: TcpState;
  readonly values: readonly number[];
}

export interface HostPopulation {
  readonly host: string;
  readonly connections: number;
  readonly series: readonly StateSeries[];
}

export interface HistogramBin {
  readonly x0: number;
  readonly x1: number;
  readonly count: number;
}

export interface RttStats {
  readonly samples: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly histogram: readonly HistogramBin[];
}

export interface ServiceView {
  readonly endpoint: string;
  readonly connections: number;
  readonly failed: number;
  readonly failures: readonly { readonly kind: string; readonly count: number }[];
  readonly rtt: RttStats | null;
  readonly opened: readonly number[];
  readonly reset: readonly number[];
  readonly findings: readonly { readonly id: string; readonly severity: Severity }[];
}

export interface ConnectionRow {
  readonly id: number;
  readonly client: string;
  readonly server: string;
  readonly start: string;
  readonly duration: string;
  readonly durationSeconds: number;
  readonly startRel: number;
  readonly handshake: string;
  readonly connState: string;
  readonly clientState: TcpState;
  readonly serverState: TcpState;
  readonly history: string;
  readonly closeReason: string;
  readonly rtt: string;
  readonly rttMs: number;
  readonly packets: number;
  readonly bytes: number;
  readonly findings: readonly string[];
}

export interface Fact {
  readonly label: string;
  readonly value: string;
  readonly level?: VerdictLevel;
}

/** Everything the templates show. */
export interface ReportView {
  readonly schema: string;
  readonly toolVersion: string;
  readonly title: string;
  readonly verdict: { readonly level: VerdictLevel; readonly text: string; readonly detail: string };
  readonly findingCounts: Readonly<Record<Severity, number>>;
  readonly findings: readonly FindingView[];
  readonly detectorErrors: readonly { readonly id: string; readonly error: string }[];
  readonly capture: {
    readonly file: string;
    readonly facts: readonly Fact[];
    readonly interfaces: readonly Fact[];
    readonly comments: readonly string[];
    readonly warnings: readonly string[];
  };
  readonly quality: readonly Fact[];
  readonly bins: TimeBins;
  readonly series: {
    readonly opened: readonly number[];
    readonly closed: readonly number[];
    readonly reset: readonly number[];
    readonly synRetransmissions: readonly number[];
    readonly synAckRetransmissions: readonly number[];
  };
  /** Connection endpoints per state over all connections (see {@link HostPopulation}), by side. */
  readonly population: { readonly client: readonly StateSeries[]; readonly server: readonly StateSeries[] };
  readonly hosts: readonly HostPopulation[];
  readonly hostsOmitted: number;
  readonly rtt: RttStats | null;
  readonly ladders: readonly LadderView[];
  readonly laddersOmitted: number;
  readonly swimlane: SwimlaneView;
  readonly services: readonly ServiceView[];
  readonly servicesOmitted: number;
  readonly table: {
    readonly rows: readonly ConnectionRow[];
    readonly total: number;
    readonly omitted: number;
    readonly states: readonly TcpState[];
    readonly findingIds: readonly string[];
  };
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };
const SEVERITY_LABEL: Readonly<Record<Severity, string>> = { error: 'Error', warning: 'Warning', info: 'Info' };

/** Human wording of each handshake outcome that is a failure. */
export const HANDSHAKE_FAILURE_LABEL: Readonly<Record<string, string>> = {
  no_synack: 'SYN never answered',
  refused: 'refused (RST to SYN)',
  half_open: 'half-open (final ACK missing)',
  reset_after_ack: 'reset right after handshake',
};

/** Findings ranked: severity (error first), then count (largest first), then id and endpoint. */
export function rankFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      b.count - a.count ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) ||
      (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0),
  );
}

/** The report's one-line verdict: the worst finding, or that nothing was found. */
export function verdictOf(report: AnalysisReport): { level: VerdictLevel; text: string; detail: string } {
  const ranked = rankFindings(report.findings);
  const top = ranked[0];
  const problems = ranked.filter((f) => f.severity !== 'info');
  const partial = report.capture.partial ? ' The capture was read only in part: results are partial.' : '';
  const detail =
    `${plural(report.flows.length, 'connection')} in ${fmtDuration(report.capture.durationSeconds)} of capture, ` +
    `${plural(report.findings.length, 'finding')}.${partial}`;
  if (top === undefined || problems.length === 0) {
    const notes = ranked.length > 0 ? ` (${plural(ranked.length, 'note')})` : '';
    return { level: 'ok', text: `No problems found in ${plural(report.flows.length, 'connection')}${notes}.`, detail };
  }
  const more = problems.length > 1 ? ` (+${plural(problems.length - 1, 'more problem')})` : '';
  return { level: top.severity, text: `${top.title} on ${top.endpoint}${more}`, detail };
}

function captureOrigin(report: AnalysisReport): number {
  let origin = Number.POSITIVE_INFINITY;
  const first = report.capture.firstTs;
  if (first !== null) {
    const ms = Date.parse(first);
    if (Number.isFinite(ms)) origin = ms / 1000;
  }
  for (const flow of report.flows) if (flow.startSeconds < origin) origin = flow.startSeconds;
  return Number.isFinite(origin) ? origin : 0;
}

/** Bins over the capture: a "nice" width (d3 tick step) giving at most {@link MAX_BINS} bins. */
export function timeBinsOf(report: AnalysisReport): TimeBins {
  const origin = captureOrigin(report);
  let end = origin + Math.max(0, report.capture.durationSeconds);
  for (const flow of report.flows) if (flow.endSeconds > end) end = flow.endSeconds;
  const duration = Math.max(end - origin, 0);
  let width = 1;
  if (duration > 0) {
    const ticks = scaleLinear().domain([0, duration]).ticks(60);
    const step = ticks.length > 1 ? (ticks[1] ?? 1) - (ticks[0] ?? 0) : duration;
    width = Number(step.toPrecision(12));
    while (Math.ceil(duration / width - 1e-9) > MAX_BINS) width *= 2;
  }
  const count = Math.max(1, Math.min(MAX_BINS, Math.ceil(duration / width - 1e-9)));
  return { widthSeconds: width, count, originSeconds: origin, durationSeconds: duration };
}

function binOf(bins: TimeBins, epochSeconds: number): number {
  const i = Math.floor((epochSeconds - bins.originSeconds) / bins.widthSeconds);
  return i < 0 ? 0 : i >= bins.count ? bins.count - 1 : i;
}

/**
 * Each side's state over time, from its transitions: the state before the first transition from
 * the flow start, each `to` state until the next transition, the last one until the end of the
 * capture (TIME_WAIT capped at {@link TIME_WAIT_DISPLAY_SECONDS}; CLOSED is not drawn). Seconds
 * are relative to `origin`.
 */
export function sideIntervals(flow: FlowRecord, side: Side, origin: number, captureEnd: number): StateInterval[] {
  const out: StateInterval[] = [];
  const push = (state: TcpState, a: number, b: number): void => {
    if (state === 'CLOSED' || b < a) return;
    out.push({ state, start: a - origin, end: b - origin });
  };
  const transitions = flow.transitions.filter((t) => t.side === side);
  const finalState = flow.finalState[side];
  const tail = (state: TcpState, from: number): void => {
    const end = state === 'TIME_WAIT' ? Math.min(from + TIME_WAIT_DISPLAY_SECONDS, captureEnd) : captureEnd;
    push(state, from, Math.max(end, from));
  };
  const first = transitions[0];
  if (first === undefined) {
    if (finalState !== 'CLOSED') tail(finalState, flow.startSeconds);
    return out;
  }
  push(first.from, flow.startSeconds, first.tSeconds);
  for (let i = 0; i < transitions.length; i += 1) {
    const t = transitions[i]!;
    const next = transitions[i + 1];
    if (next !== undefined) push(t.to, t.tSeconds, next.tSeconds);
    else if (t.to === finalState) tail(t.to, t.tSeconds);
    else {
      // Transitions were capped (transitionsOmitted > 0): bridge to the final state at the flow end.
      push(t.to, t.tSeconds, Math.max(t.tSeconds, flow.endSeconds));
      tail(finalState, Math.max(t.tSeconds, flow.endSeconds));
    }
  }
  return out;
}

/**
 * Per-state accumulator of the time-weighted population: `full` is a difference array of bins an
 * interval covers completely, `partial` the covered fraction of its first and last bin. The value
 * of a bin is the average number of connections in the state during the bin, so a state held for
 * 1 ms of a 1 s bin adds 0.001, not 1 (what `netstat` run at a random instant would show).
 */
interface PopulationAcc {
  readonly full: Int32Array;
  readonly partial: Float64Array;
}

function addPopulation(target: Map<TcpState, PopulationAcc>, intervals: readonly StateInterval[], bins: TimeBins): void {
  const n = bins.count;
  for (const iv of intervals) {
    let acc = target.get(iv.state);
    if (acc === undefined) {
      acc = { full: new Int32Array(n + 1), partial: new Float64Array(n) };
      target.set(iv.state, acc);
    }
    const a = Math.min(n, Math.max(0, iv.start / bins.widthSeconds));
    const b = Math.min(n, Math.max(0, iv.end / bins.widthSeconds));
    const ia = Math.min(n - 1, Math.floor(a));
    const ib = Math.min(n - 1, Math.floor(b));
    if (ia === ib) {
      acc.partial[ia]! += b - a;
      continue;
    }
    acc.partial[ia]! += ia + 1 - a;
    if (ib > ia + 1) {
      acc.full[ia + 1]! += 1;
      acc.full[ib]! -= 1;
    }
    acc.partial[ib]! += b - ib;
  }
}

function seriesOf(target: Map<TcpState, PopulationAcc>, order: readonly TcpState[]): StateSeries[] {
  const out: StateSeries[] = [];
  for (const state of order) {
    const acc = target.get(state);
    if (acc === undefined) continue;
    const values: number[] = [];
    let running = 0;
    for (let i = 0; i < acc.partial.length; i += 1) {
      running += acc.full[i]!;
      // Rounded to 3 decimals so the output never depends on summation order noise.
      values.push(Math.round((running + acc.partial[i]!) * 1000) / 1000);
    }
    out.push({ state, values });
  }
  return out;
}

const POPULATION_ORDER: readonly TcpState[] = [
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
];

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx]!;
}

/** Median, p95 and a histogram (d3 "nice" thresholds, about 20 bins) of handshake RTTs in ms. */
export function rttStatsOf(valuesMs: readonly number[]): RttStats | null {
  if (valuesMs.length === 0) return null;
  const sorted = [...valuesMs].sort((a, b) => a - b);
  const max = sorted[sorted.length - 1]!;
  const scale = scaleLinear().domain([0, max > 0 ? max : 1]).nice(20);
  const thresholds = scale.ticks(20);
  const top = scale.domain()[1]!;
  if ((thresholds[thresholds.length - 1] ?? 0) < top) thresholds.push(top);
  const histogram: HistogramBin[] = [];
  for (let i = 0; i + 1 < thresholds.length; i += 1) {
    histogram.push({ x0: thresholds[i]!, x1: thresholds[i + 1]!, count: 0 });
  }
  const binWidth = (thresholds[1] ?? 1) - (thresholds[0] ?? 0) || 1;
  for (const v of sorted) {
    const i = Math.min(histogram.length - 1, Math.max(0, Math.floor(v / binWidth)));
    const bin = histogram[i];
    if (bin !== undefined) histogram[i] = { ...bin, count: bin.count + 1 };
  }
  return {
    samples: sorted.length,
    medianMs: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
    maxMs: max,
    histogram,
  };
}

/** Failure kinds of one flow, as shown per service (a flow may have several). */
export function failureKindsOf(flow: FlowRecord): string[] {
  const kinds: string[] = [];
  const hs = HANDSHAKE_FAILURE_LABEL[flow.handshake];
  if (hs !== undefined) kinds.push(hs);
  else if (flow.closeReason === 'reset') {
    kinds.push(flow.counts.rstServer > 0 ? 'reset by server' : 'reset by client');
  }
  if (flow.finalState.server === 'CLOSE_WAIT') kinds.push('server left in CLOSE_WAIT');
  if (flow.finalState.client === 'CLOSE_WAIT') kinds.push('client left in CLOSE_WAIT');
  if (flow.counts.synRetransmissions > 0 && flow.handshake === 'complete') kinds.push('SYN retransmitted');
  return kinds;
}

function frameList(frames: readonly number[], total: number): string {
  if (total === 0) return 'none';
  const shown = frames.slice(0, 20).map((f) => `#${f}`).join(', ');
  const more = total > Math.min(frames.length, 20) ? ` … (${fmtInt(Math.min(frames.length, 20))} of ${fmtInt(total)} shown)` : '';
  return shown + more;
}

function serviceKey(flow: FlowRecord): string {
  return fmtEndpoint(flow.server.ip, flow.server.port);
}

/**
 * Builds the view model. Pure and deterministic: same report, same view. Runs in time linear in
 * the number of flows plus their transitions and segment samples.
 */
export function buildReportView(report: AnalysisReport, options: Partial<ReportViewOptions> = {}): ReportView {
  const opts: ReportViewOptions = { ...DEFAULT_VIEW_OPTIONS, ...options };
  const flows = report.flows;
  const ranked = rankFindings(report.findings);
  const bins = timeBinsOf(report);
  const origin = bins.originSeconds;
  const captureEnd = origin + bins.durationSeconds;
  const rel = (epoch: number): number => epoch - origin;

  const flowById = new Map<number, FlowRecord>();
  for (const flow of flows) flowById.set(flow.id, flow);
  const findingsOfFlow = new Map<number, string[]>();
  for (const f of ranked) {
    for (const id of f.flows) {
      const list = findingsOfFlow.get(id);
      if (list === undefined) findingsOfFlow.set(id, [f.id]);
      else if (!list.includes(f.id)) list.push(f.id);
    }
  }

  // Findings.
  const findingViews: FindingView[] = ranked.map((finding, i) => ({
    finding,
    rank: i + 1,
    anchor: `finding-${i + 1}`,
    severityLabel: SEVERITY_LABEL[finding.severity],
    framesText: frameList(finding.frames, finding.framesTotal),
    flowsText:
      finding.flows.length === 0
        ? ''
        : finding.flows.slice(0, 12).join(', ') +
          (finding.flows.length > 12 ? ` … (${fmtInt(finding.flows.length)} listed)` : ''),
    timeText: finding.firstTs === finding.lastTs ? finding.firstTs : `${finding.firstTs} → ${finding.lastTs}`,
    details: Object.keys(finding.details ?? {})
      .sort()
      .map((key) => ({ key, value: truncate(JSON.stringify(finding.details?.[key]) ?? '', 300) })),
  }));
  const findingCounts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of ranked) findingCounts[f.severity] += 1;

  // Host ranking (for the virtual netstat): connections per ip, either side.
  const hostCount = new Map<string, number>();
  for (const flow of flows) {
    hostCount.set(flow.client.ip, (hostCount.get(flow.client.ip) ?? 0) + 1);
    hostCount.set(flow.server.ip, (hostCount.get(flow.server.ip) ?? 0) + 1);
  }
  const hostRanking = [...hostCount.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const topHosts = hostRanking.slice(0, opts.maxHosts);
  const hostPop = new Map<string, Map<TcpState, PopulationAcc>>(topHosts.map(([h]) => [h, new Map()]));

  // Series and per-service aggregates in one pass.
  const opened = new Array<number>(bins.count).fill(0);
  const closed = new Array<number>(bins.count).fill(0);
  const reset = new Array<number>(bins.count).fill(0);
  const synRetx = new Array<number>(bins.count).fill(0);
  const synAckRetx = new Array<number>(bins.count).fill(0);
  const sidePop: Record<Side, Map<TcpState, PopulationAcc>> = { client: new Map(), server: new Map() };
  const rttAll: number[] = [];
  interface ServiceAcc {
    connections: number;
    failed: number;
    failures: Map<string, number>;
    rtt: number[];
    opened: number[];
    reset: number[];
  }
  const services = new Map<string, ServiceAcc>();
  const useRows = flows.length <= opts.maxSwimlaneRows;
  const swimRows: SwimlaneRow[] = [];

  for (const flow of flows) {
    const startBin = binOf(bins, flow.startSeconds);
    opened[startBin]! += 1;
    if (flow.closeReason === 'closed') closed[binOf(bins, flow.endSeconds)]! += 1;
    if (flow.closeReason === 'reset') reset[binOf(bins, flow.endSeconds)]! += 1;
    let sampledSyn = 0;
    let sampledSynAck = 0;
    for (const s of flow.segments) {
      if (s.retransmission === 'syn') {
        sampledSyn += 1;
        synRetx[binOf(bins, flow.startSeconds + s.relSeconds)]! += 1;
      } else if (s.retransmission === 'synack') {
        sampledSynAck += 1;
        synAckRetx[binOf(bins, flow.startSeconds + s.relSeconds)]! += 1;
      }
    }
    // Counts are exact, samples bounded: retransmissions not sampled go to the flow's first bin.
    synRetx[startBin]! += Math.max(0, flow.counts.synRetransmissions - sampledSyn);
    synAckRetx[startBin]! += Math.max(0, flow.counts.synAckRetransmissions - sampledSynAck);
    if (flow.rttMs !== undefined) rttAll.push(flow.rttMs.total);

    const client = sideIntervals(flow, 'client', origin, captureEnd);
    const server = sideIntervals(flow, 'server', origin, captureEnd);
    addPopulation(sidePop.client, client, bins);
    addPopulation(sidePop.server, server, bins);
    const hc = hostPop.get(flow.client.ip);
    if (hc !== undefined) addPopulation(hc, client, bins);
    const hsrv = hostPop.get(flow.server.ip);
    if (hsrv !== undefined) addPopulation(hsrv, server, bins);
    if (useRows) {
      swimRows.push({
        flowId: flow.id,
        label: `#${flow.id} ${fmtEndpoint(flow.client.ip, flow.client.port)} → ${serviceKey(flow)}`,
        client,
        server,
        flagged: findingsOfFlow.has(flow.id),
      });
    }

    const key = serviceKey(flow);
    let acc = services.get(key);
    if (acc === undefined) {
      acc = {
        connections: 0,
        failed: 0,
        failures: new Map(),
        rtt: [],
        opened: new Array<number>(bins.count).fill(0),
        reset: new Array<number>(bins.count).fill(0),
      };
      services.set(key, acc);
    }
    acc.connections += 1;
    acc.opened[startBin]! += 1;
    if (flow.closeReason === 'reset') acc.reset[binOf(bins, flow.endSeconds)]! += 1;
    const kinds = failureKindsOf(flow);
    if (kinds.length > 0) acc.failed += 1;
    for (const k of kinds) acc.failures.set(k, (acc.failures.get(k) ?? 0) + 1);
    if (flow.rttMs !== undefined) acc.rtt.push(flow.rttMs.total);
  }

  const findingsByEndpoint = new Map<string, { id: string; severity: Severity }[]>();
  for (const f of ranked) {
    const list = findingsByEndpoint.get(f.endpoint) ?? [];
    if (!list.some((x) => x.id === f.id)) list.push({ id: f.id, severity: f.severity });
    findingsByEndpoint.set(f.endpoint, list);
  }
  const serviceList = [...services.entries()].sort(
    (a, b) =>
      (findingsByEndpoint.has(b[0]) ? 1 : 0) - (findingsByEndpoint.has(a[0]) ? 1 : 0) ||
      b[1].connections - a[1].connections ||
      (a[0] < b[0] ? -1 : 1),
  );
  const serviceViews: ServiceView[] = serviceList.slice(0, opts.maxServices).map(([endpoint, acc]) => ({
    endpoint,
    connections: acc.connections,
    failed: acc.failed,
    failures: [...acc.failures.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([kind, count]) => ({ kind, count })),
    rtt: rttStatsOf(acc.rtt),
    opened: acc.opened,
    reset: acc.reset,
    findings: findingsByEndpoint.get(endpoint) ?? [],
  }));

  // Ladders: the first N existing flows of each finding, in finding rank order.
  const ladders: LadderView[] = [];
  let laddersOmitted = 0;
  for (const fv of findingViews) {
    let taken = 0;
    for (const id of fv.finding.flows) {
      const flow = flowById.get(id);
      if (flow === undefined) continue;
      if (taken >= opts.laddersPerFinding || ladders.length >= opts.maxLadders) {
        laddersOmitted += 1;
        continue;
      }
      taken += 1;
      ladders.push({
        findingId: fv.finding.id,
        findingAnchor: fv.anchor,
        findingTitle: fv.finding.title,
        flow,
        heading:
          `Connection #${flow.id}: ${fmtEndpoint(flow.client.ip, flow.client.port)} → ${serviceKey(flow)}` +
          (flow.incarnation > 1 ? ` (incarnation ${flow.incarnation})` : ''),
        startRel: rel(flow.startSeconds),
      });
    }
  }

  // Connection table: flows named by findings first, then failures, then the rest; shown by id.
  const chosen = new Set<number>();
  const take = (id: number): void => {
    if (chosen.size < opts.maxTableRows && flowById.has(id)) chosen.add(id);
  };
  for (const f of ranked) for (const id of f.flows) take(id);
  if (chosen.size < opts.maxTableRows) for (const flow of flows) if (failureKindsOf(flow).length > 0) take(flow.id);
  if (chosen.size < opts.maxTableRows) for (const flow of flows) take(flow.id);
  const tableFlows = [...chosen].sort((a, b) => a - b).map((id) => flowById.get(id)!);
  const stateSet = new Set<TcpState>();
  const rows: ConnectionRow[] = tableFlows.map((flow) => {
    stateSet.add(flow.finalState.client);
    stateSet.add(flow.finalState.server);
    return {
      id: flow.id,
      client: fmtEndpoint(flow.client.ip, flow.client.port),
      server: serviceKey(flow),
      start: fmtRelSeconds(rel(flow.startSeconds), 3),
      startRel: rel(flow.startSeconds),
      duration: fmtDuration(flow.durationSeconds),
      durationSeconds: flow.durationSeconds,
      handshake: flow.handshake,
      connState: flow.connState,
      clientState: flow.finalState.client,
      serverState: flow.finalState.server,
      history: flow.history,
      closeReason: flow.closeReason,
      rtt: flow.rttMs === undefined ? '' : fmtMs(flow.rttMs.total),
      rttMs: flow.rttMs?.total ?? -1,
      packets: flow.packets.client + flow.packets.server,
      bytes: flow.bytes.client + flow.bytes.server,
      findings: findingsOfFlow.get(flow.id) ?? [],
    };
  });

  const swimlane: SwimlaneView = useRows
    ? {
        mode: 'rows',
        rows: swimRows.sort((a, b) => (a.client[0]?.start ?? 0) - (b.client[0]?.start ?? 0) || a.flowId - b.flowId),
        durationSeconds: bins.durationSeconds,
      }
    : {
        mode: 'density',
        bins,
        client: seriesOf(sidePop.client, POPULATION_ORDER),
        server: seriesOf(sidePop.server, POPULATION_ORDER),
        flows: flows.length,
      };

  const cap = report.capture;
  const facts: Fact[] = [
    { label: 'File', value: cap.file },
    { label: 'Format', value: `${cap.format}${cap.compressed ? ' (compressed)' : ''}, ${cap.byteOrder}, version ${cap.version}` },
    { label: 'Link types', value: cap.linkTypes.join(', ') || '–' },
    { label: 'Packets', value: `${fmtInt(cap.packets)} (${fmtInt(cap.tcpPackets)} TCP)` },
    { label: 'Bytes on the wire', value: `${fmtInt(cap.bytes)} (${fmtInt(cap.capturedBytes)} captured)` },
    { label: 'Time span', value: cap.firstTs === null ? 'empty capture' : `${cap.firstTs} → ${cap.lastTs ?? ''}` },
    { label: 'Duration', value: fmtDuration(cap.durationSeconds) },
    { label: 'Connections', value: fmtInt(flows.length) },
  ];
  const interfaces: Fact[] = cap.interfaces.map((i) => ({
    label: `Interface ${i.id}${i.name === undefined ? '' : ` (${i.name})`}`,
    value:
      `${i.linkTypeName}, snaplen ${i.snapLength}, resolution ${i.tsResolution}, ${plural(i.packets, 'packet')}` +
      (i.drops === undefined ? '' : `, drops: interface ${i.drops.interface ?? '?'}, OS ${i.drops.os ?? '?'}`),
  }));

  return {
    schema: report.schema,
    toolVersion: report.tool.version,
    title: `tcpmortem: ${cap.file}`,
    verdict: verdictOf(report),
    findingCounts,
    findings: findingViews,
    detectorErrors: report.detectors
      .filter((d) => d.status === 'error')
      .map((d) => ({ id: d.id, error: d.error ?? 'unknown error' })),
    capture: {
      file: cap.file,
      facts,
      interfaces,
      comments: [...cap.comments],
      warnings: cap.warnings.map(
        (w) => `${w.code}: ${w.message} (byte offset ${w.byteOffset}${w.frame === undefined ? '' : `, frame ${w.frame}`})`,
      ),
    },
    quality: qualityFacts(report),
    bins,
    series: { opened, closed, reset, synRetransmissions: synRetx, synAckRetransmissions: synAckRetx },
    population: { client: seriesOf(sidePop.client, POPULATION_ORDER), server: seriesOf(sidePop.server, POPULATION_ORDER) },
    hosts: topHosts.map(([host, connections]) => ({
      host,
      connections,
      series: seriesOf(hostPop.get(host)!, POPULATION_ORDER),
    })),
    hostsOmitted: Math.max(0, hostRanking.length - topHosts.length),
    rtt: rttStatsOf(rttAll),
    ladders,
    laddersOmitted,
    swimlane,
    services: serviceViews,
    servicesOmitted: Math.max(0, serviceList.length - serviceViews.length),
    table: {
      rows,
      total: flows.length,
      omitted: flows.length - rows.length,
      states: POPULATION_ORDER.concat(['CLOSED']).filter((s) => stateSet.has(s)),
      findingIds: [...new Set(ranked.map((f) => f.id))],
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * What the capture can and cannot show: facts from the capture section, then the optional
 * `quality` section of the report (added by the diagnose stage; rendered generically so the
 * renderer does not depend on its exact shape).
 */
export function qualityFacts(report: AnalysisReport): Fact[] {
  const cap = report.capture;
  const out: Fact[] = [];
  out.push({
    label: 'Read completely',
    value: cap.partial ? 'no: reading stopped early, results are partial' : 'yes',
    level: cap.partial ? 'error' : 'ok',
  });
  out.push({
    label: 'Drops reported by the capture',
    value: cap.drops === null ? 'not reported' : fmtInt(cap.drops),
    level: cap.drops !== null && cap.drops > 0 ? 'warning' : 'ok',
  });
  out.push({
    label: 'Packets cut by the snaplen',
    value: fmtInt(cap.truncatedPackets),
    level: cap.truncatedPackets > 0 ? 'info' : 'ok',
  });
  out.push({
    label: 'Timestamps going backwards',
    value: fmtInt(cap.timestampsBackwards),
    level: cap.timestampsBackwards > 0 ? 'warning' : 'ok',
  });
  const midstream = report.flows.filter((f) => f.handshake === 'not_seen').length;
  if (midstream > 0) {
    out.push({ label: 'Connections already open when the capture started', value: fmtInt(midstream), level: 'info' });
  }
  const skipped = Object.keys(cap.skipped).sort();
  if (skipped.length > 0) {
    out.push({ label: 'Packets skipped', value: skipped.map((k) => `${k}: ${fmtInt(cap.skipped[k] ?? 0)}`).join(', ') });
  }
  const anomalies = Object.keys(cap.anomalies).sort();
  if (anomalies.length > 0) {
    out.push({
      label: 'Anomalies (weirds)',
      value: anomalies.map((k) => `${k}: ${fmtInt(cap.anomalies[k] ?? 0)}`).join(', '),
      level: 'info',
    });
  }
  const quality = (report as AnalysisReport & { readonly quality?: unknown }).quality;
  out.push(...genericFacts(quality));
  return out;
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return fmtIntOrFloat(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return truncate(JSON.stringify(value) ?? '', 300);
}

function fmtIntOrFloat(value: number): string {
  return Number.isInteger(value) ? fmtInt(value) : String(Math.round(value * 1000) / 1000);
}

function levelOf(value: unknown): VerdictLevel | undefined {
  return value === 'error' || value === 'warning' || value === 'info' || value === 'ok' ? value : undefined;
}

function genericFacts(quality: unknown): Fact[] {
  if (quality === undefined || quality === null) return [];
  if (Array.isArray(quality)) return quality.flatMap((item: unknown, i) => itemFact(item, `Quality note ${i + 1}`));
  if (typeof quality !== 'object') return [{ label: 'Capture quality', value: asText(quality) }];
  const out: Fact[] = [];
  const record = quality as Record<string, unknown>;
  for (const key of Object.keys(record).sort()) {
    const value = record[key];
    if (Array.isArray(value)) out.push(...value.flatMap((item: unknown, i) => itemFact(item, `${humanize(key)} ${i + 1}`)));
    else if (value !== undefined) out.push({ label: humanize(key), value: asText(value) });
  }
  return out;
}

function itemFact(item: unknown, fallbackLabel: string): Fact[] {
  if (item === null || typeof item !== 'object') return [{ label: fallbackLabel, value: asText(item) }];
  const r = item as Record<string, unknown>;
  const label = [r['title'], r['label'], r['code'], r['name'], r['id']].find((v) => typeof v === 'string');
  const text = [r['message'], r['summary'], r['text'], r['description'], r['detail'], r['value']].find(
    (v) => v !== undefined,
  );
  const level = levelOf(r['severity'] ?? r['level']);
  const fact: Fact = {
    label: typeof label === 'string' ? label : fallbackLabel,
    value: text === undefined ? asText(item) : asText(text),
  };
  return [level === undefined ? fact : { ...fact, level }];
}

function humanize(key: string): string {
  const spaced = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]/g, ' ').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
