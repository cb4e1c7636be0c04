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
import type { FlowList, FlowRecord, FlowSummary, Side, TcpState } from '../tcp/types.ts';
import { addressKeyText, addressKeyWord, clientAddressKey, recordAt, scanFlows, serverAddressKey, summaryAt } from '../tcp/flow-summary.ts';
import { STATE_ORDER } from './svg/common.ts';
import { packetSeconds } from '../tcp/packet-seconds.ts';
import { parseIsoTimestamp } from '../common/time.ts';
import { fmtDuration, fmtEndpoint, fmtInt, fmtMs, fmtRelSeconds, plural, vlanText } from './format.ts';

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
  /**
   * Hosts whose count and population the scan gathers as it goes (the first ones seen, about 21 KB
   * each); a charted host past them costs a second look at its flows. Default 64.
   */
  readonly trackedHosts: number;
}

export const DEFAULT_VIEW_OPTIONS: Readonly<ReportViewOptions> = {
  maxTableRows: 2000,
  maxSwimlaneRows: 300,
  laddersPerFinding: 3,
  maxLadders: 24,
  maxServices: 12,
  maxHosts: 4,
  trackedHosts: 64,
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

/** A pointer from a finding to a ladder drawn for an earlier finding. */
export interface LadderRef {
  readonly findingId: string;
  readonly findingAnchor: string;
  readonly flowId: number;
}

/** One capture-quality item as shown. */
export interface QualityItemView {
  readonly id: string;
  readonly label: string;
  readonly level: Severity;
  readonly severityLabel: string;
  readonly message: string;
  readonly count: number;
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
  /** VLAN id(s) (see vlanText), empty when untagged. */
  readonly vlan: string;
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

/**
 * The findings of one kind (detector id), for the overview at the top of the findings: a busy
 * capture has hundreds of findings (one per service and kind), and what a reader needs first is
 * which kinds, how many and where.
 */
export interface FindingKindView {
  readonly id: string;
  /** The title of its most severe, largest finding (a kind's titles may vary by variant). */
  readonly title: string;
  /** The most severe of its findings. */
  readonly severity: Severity;
  readonly severityLabel: string;
  /** Findings of this kind (one per endpoint, mostly). */
  readonly findings: number;
  /** Sum of their counts (connections, SYNs ... as each detector counts). */
  readonly occurrences: number;
  /** Its first findings' endpoints in report order, each with the anchor of its card or row. */
  readonly endpoints: readonly { readonly endpoint: string; readonly anchor: string }[];
  /** Findings of this kind past `endpoints`. */
  readonly moreEndpoints: number;
}

/** Endpoints named per kind in the findings overview (see FindingKindView). */
export const OVERVIEW_ENDPOINTS = 4;

/** Everything the templates show. */
export interface ReportView {
  readonly schema: string;
  readonly toolVersion: string;
  readonly title: string;
  readonly verdict: { readonly level: VerdictLevel; readonly text: string; readonly detail: string };
  readonly findingCounts: Readonly<Record<Severity, number>>;
  readonly findings: readonly FindingView[];
  /** The findings grouped by kind, in report order of each kind's first finding (see FindingKindView). */
  readonly findingKinds: readonly FindingKindView[];
  readonly detectorErrors: readonly { readonly id: string; readonly error: string }[];
  readonly capture: {
    readonly file: string;
    readonly facts: readonly Fact[];
    readonly interfaces: readonly Fact[];
    readonly comments: readonly string[];
    readonly warnings: readonly string[];
  };
  /** How the capture was read (completeness, drops, snaplen, timestamps, skipped packets, weirds). */
  readonly quality: readonly Fact[];
  /** The report's capture-quality items (what the capture cannot show), worst first. */
  readonly qualityItems: readonly QualityItemView[];
  /** False for results written before the `quality` section existed: then nothing is claimed. */
  readonly qualityKnown: boolean;
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
  /** True when more hosts than those charted had connections. */
  readonly hostsOmitted: boolean;
  readonly rtt: RttStats | null;
  readonly ladders: readonly LadderView[];
  /** Findings whose connections all have a ladder drawn for an earlier finding: which ones to point to. */
  readonly ladderRefs: readonly LadderRef[];
  /** Connections named by findings that got no ladder (distinct connections). */
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
    /** Whether a row is VLAN-tagged: the table then has a VLAN column (the same 4-tuple on two VLANs is two connections). */
    readonly hasVlan: boolean;
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

/**
 * The findings grouped by detector id, in the order of each kind's first (highest-ranked) finding,
 * so the most severe kind comes first. `views` are in rank order.
 */
export function findingKindsOf(views: readonly FindingView[]): FindingKindView[] {
  const kinds = new Map<string, { first: FindingView; findings: number; occurrences: number; endpoints: { endpoint: string; anchor: string }[] }>();
  for (const v of views) {
    let kind = kinds.get(v.finding.id);
    if (kind === undefined) {
      kind = { first: v, findings: 0, occurrences: 0, endpoints: [] };
      kinds.set(v.finding.id, kind);
    }
    kind.findings += 1;
    kind.occurrences += v.finding.count;
    if (kind.endpoints.length < OVERVIEW_ENDPOINTS) kind.endpoints.push({ endpoint: v.finding.endpoint, anchor: v.anchor });
  }
  return [...kinds.values()].map((k) => ({
    id: k.first.finding.id,
    title: k.first.finding.title,
    severity: k.first.finding.severity,
    severityLabel: k.first.severityLabel,
    findings: k.findings,
    occurrences: k.occurrences,
    endpoints: k.endpoints,
    moreEndpoints: k.findings - k.endpoints.length,
  }));
}

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
  if (top === undefined && report.flows.length === 0) {
    // Nothing to diagnose is not "no problems": say what the capture holds instead.
    const cap = report.capture;
    const text =
      cap.packets === 0
        ? 'The capture holds no packets.'
        : cap.tcpPackets === 0
          ? `No TCP in this capture: none of its ${plural(cap.packets, 'packet')} is TCP.`
          : `No TCP connection could be followed in ${plural(cap.tcpPackets, 'TCP packet')}.`;
    return { level: 'info', text, detail };
  }
  if (top === undefined || problems.length === 0) {
    const notes = ranked.length > 0 ? ` (${plural(ranked.length, 'note')})` : '';
    return { level: 'ok', text: `No problems found in ${plural(report.flows.length, 'connection')}${notes}.`, detail };
  }
  const more = problems.length > 1 ? ` (+${plural(problems.length - 1, 'more problem')})` : '';
  return { level: top.severity, text: `${top.title} on ${top.endpoint}${more}`, detail };
}

/**
 * Bins over the capture: a "nice" width (d3 tick step) giving at most {@link MAX_BINS} bins. The
 * span runs from the first packet (or the earliest flow start) to the last flow end, given as
 * seconds since the epoch (+Infinity and -Infinity when there are no flows): {@link
 * buildReportView} gathers both in its first pass.
 */
function timeBinsOfSpan(report: Pick<AnalysisReport, 'capture'>, earliestStart: number, lastEnd: number): TimeBins {
  let origin = Number.POSITIVE_INFINITY;
  const first = report.capture.firstTs;
  if (first !== null) {
    const ms = Date.parse(first);
    if (Number.isFinite(ms)) origin = ms / 1000;
  }
  if (earliestStart < origin) origin = earliestStart;
  if (!Number.isFinite(origin)) origin = 0;
  const end = Math.max(origin + Math.max(0, report.capture.durationSeconds), lastEnd);
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

/** States drawn in population charts: every state of {@link STATE_ORDER} but CLOSED (no socket). */
const POPULATION_ORDER: readonly TcpState[] = STATE_ORDER.filter((s) => s !== 'CLOSED');
/**
 * Index of each drawn state in {@link POPULATION_ORDER}; CLOSED is never drawn (-1). A switch, not
 * a lookup by key in an object: it runs for every state interval of every connection.
 */
function stateIndex(state: TcpState): number {
  switch (state) {
    case 'SYN_SENT':
      return 0;
    case 'SYN_RECEIVED':
      return 1;
    case 'ESTABLISHED':
      return 2;
    case 'FIN_WAIT_1':
      return 3;
    case 'FIN_WAIT_2':
      return 4;
    case 'CLOSE_WAIT':
      return 5;
    case 'CLOSING':
      return 6;
    case 'LAST_ACK':
      return 7;
    case 'TIME_WAIT':
      return 8;
    case 'LISTEN':
      return 9;
    case 'UNKNOWN':
      return 10;
    default:
      return -1;
  }
}
const STATES = POPULATION_ORDER.length;

/** Receives the state intervals of one side of one flow, in epoch seconds (`start <= end`). */
interface IntervalSink {
  add(state: TcpState, start: number, end: number): void;
}

/**
 * Walks each side's state over time, from its transitions: the state before the first transition
 * from the flow start, each `to` state until the next transition, the last one until the end of
 * the capture (TIME_WAIT capped at {@link TIME_WAIT_DISPLAY_SECONDS}; CLOSED is not emitted).
 * Feeds `sink` directly, without building arrays: this runs once per side of every flow.
 */
function walkSide(flow: FlowSummary, side: Side, captureEnd: number, sink: IntervalSink): void {
  const transitions = flow.transitions;
  const finalState = flow.finalState[side];
  let state: TcpState | undefined;
  let since = 0;
  for (let i = 0; i < transitions.length; i += 1) {
    const t = transitions[i]!;
    if (t.side !== side) continue;
    if (state === undefined) emit(sink, t.from, flow.startSeconds, t.tSeconds);
    else emit(sink, state, since, t.tSeconds);
    state = t.to;
    since = t.tSeconds;
  }
  if (state === undefined) {
    tail(sink, finalState, flow.startSeconds, captureEnd);
  } else if (state === finalState) {
    tail(sink, state, since, captureEnd);
  } else {
    // Transitions were capped (transitionsOmitted > 0): bridge to the final state at the flow end.
    const bridge = Math.max(since, flow.endSeconds);
    emit(sink, state, since, bridge);
    tail(sink, finalState, bridge, captureEnd);
  }
}

function emit(sink: IntervalSink, state: TcpState, a: number, b: number): void {
  if (state !== 'CLOSED' && b >= a) sink.add(state, a, b);
}

function tail(sink: IntervalSink, state: TcpState, from: number, captureEnd: number): void {
  const end = state === 'TIME_WAIT' ? Math.min(from + TIME_WAIT_DISPLAY_SECONDS, captureEnd) : captureEnd;
  emit(sink, state, from, Math.max(end, from));
}

class IntervalCollector implements IntervalSink {
  readonly out: StateInterval[] = [];
  constructor(private readonly origin: number) {}
  add(state: TcpState, start: number, end: number): void {
    this.out.push({ state, start: start - this.origin, end: end - this.origin });
  }
}

/**
 * Each side's state over time as intervals in seconds relative to `origin` (see
 * {@link walkSide}); used for the one-row-per-connection swimlane.
 */
export function sideIntervals(flow: FlowSummary, side: Side, origin: number, captureEnd: number): StateInterval[] {
  const collector = new IntervalCollector(origin);
  walkSide(flow, side, captureEnd, collector);
  return collector.out;
}

/**
 * Time-weighted population per state and bin, in two flat typed arrays (state-major): `full` is a
 * difference array of bins an interval covers completely, `partial` the covered fraction of its
 * first and last bin. The value of a bin is the average number of connections in the state during
 * the bin, so a state held for 1 ms of a 1 s bin adds 0.001, not 1 (what `netstat` run at a
 * random instant would show). Flat arrays instead of a Map of per-state objects: no allocation and
 * no hashing per interval, which matters at hundreds of thousands of flows.
 */
class Population implements IntervalSink {
  private readonly n: number;
  private readonly full: Float64Array;
  private readonly partial: Float64Array;
  private readonly seen = new Uint8Array(STATES);
  constructor(private readonly bins: TimeBins) {
    this.n = bins.count;
    this.full = new Float64Array(STATES * (this.n + 1));
    this.partial = new Float64Array(STATES * this.n);
  }

  add(state: TcpState, start: number, end: number): void {
    const s = stateIndex(state);
    if (s < 0) return;
    this.seen[s] = 1;
    const n = this.n;
    const w = this.bins.widthSeconds;
    const o = this.bins.originSeconds;
    const a = Math.min(n, Math.max(0, (start - o) / w));
    const b = Math.min(n, Math.max(0, (end - o) / w));
    const ia = Math.min(n - 1, Math.floor(a));
    const ib = Math.min(n - 1, Math.floor(b));
    const pBase = s * n;
    if (ia === ib) {
      this.partial[pBase + ia]! += b - a;
    } else {
      this.partial[pBase + ia]! += ia + 1 - a;
      if (ib > ia + 1) {
        const fBase = s * (n + 1);
        this.full[fBase + ia + 1]! += 1;
        this.full[fBase + ib]! -= 1;
      }
      this.partial[pBase + ib]! += b - ib;
    }
  }

  series(): StateSeries[] {
    const out: StateSeries[] = [];
    const n = this.n;
    // The last bin reaches past the end of the capture (bins have a "nice" width): its average is
    // over the part inside the capture, so a population steady to the end is not drawn dropping
    // in the last bin (no interval reaches past the end, see walkSide).
    const bins = this.bins;
    const inside = (bins.durationSeconds - (n - 1) * bins.widthSeconds) / bins.widthSeconds;
    const lastScale = inside > 0 && inside < 1 ? 1 / inside : 1;
    for (let s = 0; s < STATES; s += 1) {
      if (this.seen[s] === 0) continue;
      const values = new Array<number>(n);
      let running = 0;
      for (let i = 0; i < n; i += 1) {
        running += this.full[s * (n + 1) + i]!;
        const average = running + this.partial[s * n + i]!;
        // Rounded to 3 decimals so the output never depends on summation order noise.
        values[i] = Math.round((i === n - 1 ? average * lastScale : average) * 1000) / 1000;
      }
      out.push({ state: POPULATION_ORDER[s]!, values });
    }
    return out;
  }
}

function sameBins(a: TimeBins, b: TimeBins): boolean {
  return a.widthSeconds === b.widthSeconds && a.count === b.count && a.originSeconds === b.originSeconds && a.durationSeconds === b.durationSeconds;
}

/** A host's connection endpoints and population, from its first connection on. */
interface TrackedHost {
  count: number;
  readonly pop: Population;
}

/**
 * What the view bins by time, flow by flow, in flow order: the series, both sides' populations,
 * the swimlane rows, the bins of each flow's start and reset (the shown services' charts, read by
 * position afterwards), and the first hosts' counts and populations.
 */
class BinnedFlows {
  readonly opened: number[];
  readonly closed: number[];
  readonly reset: number[];
  readonly synRetx: number[];
  readonly synAckRetx: number[];
  readonly clientPop: Population;
  readonly serverPop: Population;
  readonly swimRows: SwimlaneRow[] = [];
  /** Per position: the bin of the flow's start; of its end when it was reset, else -1 (MAX_BINS fits a byte). */
  readonly startBin: Uint8Array;
  readonly resetBin: Int16Array;
  /**
   * The first `trackedHosts` hosts seen, by address key (see FlowSummary.clientAddressKey), each
   * from its first connection in either role, so exactly.
   */
  readonly hosts = new Map<number | string, TrackedHost>();
  readonly captureEnd: number;

  constructor(
    readonly bins: TimeBins,
    flowCount: number,
    private readonly useRows: boolean,
    private readonly isNamed: (id: number) => boolean,
    private readonly trackedHosts: number,
  ) {
    const n = bins.count;
    this.opened = new Array<number>(n).fill(0);
    this.closed = new Array<number>(n).fill(0);
    this.reset = new Array<number>(n).fill(0);
    this.synRetx = new Array<number>(n).fill(0);
    this.synAckRetx = new Array<number>(n).fill(0);
    this.clientPop = new Population(bins);
    this.serverPop = new Population(bins);
    this.startBin = new Uint8Array(flowCount);
    this.resetBin = new Int16Array(flowCount);
    this.captureEnd = bins.originSeconds + bins.durationSeconds;
  }

  /** The flow at `position` (called in order), whose address keys are `clientKey` and `serverKey`. */
  add(flow: FlowSummary, position: number, clientKey: number | string, serverKey: number | string): void {
    const bins = this.bins;
    const captureEnd = this.captureEnd;
    const startBin = binOf(bins, flow.startSeconds);
    this.startBin[position] = startBin;
    this.opened[startBin]! += 1;
    this.resetBin[position] = -1;
    if (flow.closeReason === 'closed') this.closed[binOf(bins, flow.endSeconds)]! += 1;
    else if (flow.closeReason === 'reset') {
      const endBin = binOf(bins, flow.endSeconds);
      this.reset[endBin]! += 1;
      this.resetBin[position] = endBin;
    }
    const counts = flow.counts;
    if (counts.synRetransmissions > 0 || counts.synAckRetransmissions > 0) {
      let sampledSyn = 0;
      let sampledSynAck = 0;
      for (const s of flow.segments) {
        if (s.retransmission === 'syn') {
          sampledSyn += 1;
          this.synRetx[binOf(bins, flow.startSeconds + s.relSeconds)]! += 1;
        } else if (s.retransmission === 'synack') {
          sampledSynAck += 1;
          this.synAckRetx[binOf(bins, flow.startSeconds + s.relSeconds)]! += 1;
        }
      }
      // Counts are exact, samples bounded: retransmissions not sampled go to the flow's first bin.
      this.synRetx[startBin]! += Math.max(0, counts.synRetransmissions - sampledSyn);
      this.synAckRetx[startBin]! += Math.max(0, counts.synAckRetransmissions - sampledSynAck);
    }

    walkSide(flow, 'client', captureEnd, this.clientPop);
    walkSide(flow, 'server', captureEnd, this.serverPop);
    if (this.useRows) {
      const origin = bins.originSeconds;
      this.swimRows.push({
        flowId: flow.id,
        label: `#${flow.id} ${fmtEndpoint(flow.client.ip, flow.client.port)} → ${serviceKey(flow)}${flow.vlan >= 0 ? ` VLAN ${vlanText(flow.vlan)}` : ''}`,
        client: sideIntervals(flow, 'client', origin, captureEnd),
        server: sideIntervals(flow, 'server', origin, captureEnd),
        flagged: this.isNamed(flow.id),
      });
    }

    // A host's endpoints in flow order, its client side first, as a count over all flows would.
    const asClient = this.host(clientKey);
    if (asClient !== undefined) {
      asClient.count += 1;
      walkSide(flow, 'client', captureEnd, asClient.pop);
    }
    const asServer = this.host(serverKey);
    if (asServer !== undefined) {
      asServer.count += 1;
      walkSide(flow, 'server', captureEnd, asServer.pop);
    }
  }

  /** The tracked host of `key`, tracked from now when there is room; undefined when not tracked. */
  private host(key: number | string): TrackedHost | undefined {
    let host = this.hosts.get(key);
    if (host === undefined && this.hosts.size < this.trackedHosts) {
      host = { count: 0, pop: new Population(this.bins) };
      this.hosts.set(key, host);
    }
    return host;
  }
}

/** 0-based rank of the `p` quantile of `n` sorted values (the nearest-rank method). */
function percentileRank(n: number, p: number): number {
  return Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1));
}

/**
 * The `k`-th smallest (0-based) of `a`, reordering `a`: Hoare's selection, O(n) on average, where
 * sorting every RTT of a capture was most of the report's RTT statistics. Values must not be NaN.
 */
function selectKth(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i += 1;
      while (a[j]! > pivot) j -= 1;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i += 1;
        j -= 1;
      }
    }
    // a[lo..j] <= pivot <= a[i..hi]; between them, values equal to the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Median, p95 and a histogram (d3 "nice" thresholds, about 20 bins) of handshake RTTs in ms. */
export function rttStatsOf(valuesMs: ArrayLike<number>): RttStats | null {
  const n = valuesMs.length;
  if (n === 0) return null;
  const values = new Float64Array(n);
  let max = Number.NEGATIVE_INFINITY;
  // What a numeric sort would give at a rank holding a zero: -0 sorts before 0, so it is -0 when
  // the rank is below the count of negatives and negative zeros (selection cannot tell them apart).
  let belowZero = 0;
  for (let i = 0; i < n; i += 1) {
    const v = valuesMs[i]!;
    if (Number.isNaN(v)) return rttStatsBySort(valuesMs);
    values[i] = v;
    if (v > max || (v === 0 && max === 0 && Object.is(max, -0))) max = v;
    if (v < 0 || Object.is(v, -0)) belowZero += 1;
  }
  const quantile = (p: number): number => {
    const k = percentileRank(n, p);
    const v = selectKth(values, k);
    return v === 0 ? (k < belowZero ? -0 : 0) : v;
  };
  return rttStats(values, n, quantile(0.5), quantile(0.95), max);
}

/** {@link rttStatsOf} by a full sort (values with NaN, which sorts last). */
function rttStatsBySort(valuesMs: ArrayLike<number>): RttStats {
  const n = valuesMs.length;
  // A typed array sorts numerically and several times faster than Array#sort with a comparator.
  const sorted = Float64Array.from(valuesMs);
  sorted.sort();
  return rttStats(sorted, n, sorted[percentileRank(n, 0.5)]!, sorted[percentileRank(n, 0.95)]!, sorted[n - 1]!);
}

function rttStats(values: Float64Array, n: number, medianMs: number, p95Ms: number, max: number): RttStats {
  const scale = scaleLinear().domain([0, max > 0 ? max : 1]).nice(20);
  const thresholds = scale.ticks(20);
  const top = scale.domain()[1]!;
  if ((thresholds[thresholds.length - 1] ?? 0) < top) thresholds.push(top);
  const bins = Math.max(1, thresholds.length - 1);
  const counts = new Array<number>(bins).fill(0);
  const binWidth = (thresholds[1] ?? 1) - (thresholds[0] ?? 0) || 1;
  for (let k = 0; k < n; k += 1) {
    const i = Math.min(bins - 1, Math.max(0, Math.floor(values[k]! / binWidth)));
    counts[i]! += 1;
  }
  const histogram: HistogramBin[] = [];
  for (let i = 0; i + 1 < thresholds.length; i += 1) {
    histogram.push({ x0: thresholds[i]!, x1: thresholds[i + 1]!, count: counts[i]! });
  }
  return { samples: n, medianMs, p95Ms, maxMs: max, histogram };
}

/** Failure kinds as bits, in the order of {@link FAILURE_KINDS}. */
const FK_RESET_BY_SERVER = 1 << 4;
const FK_RESET_BY_CLIENT = 1 << 5;
const FK_SERVER_CLOSE_WAIT = 1 << 6;
const FK_CLIENT_CLOSE_WAIT = 1 << 7;
const FK_SYN_RETRANSMITTED = 1 << 8;
const HANDSHAKE_FAILURE_BIT: Readonly<Record<string, number>> = { no_synack: 1, refused: 2, half_open: 4, reset_after_ack: 8 };
const FAILURE_KINDS: readonly string[] = [
  HANDSHAKE_FAILURE_LABEL['no_synack']!,
  HANDSHAKE_FAILURE_LABEL['refused']!,
  HANDSHAKE_FAILURE_LABEL['half_open']!,
  HANDSHAKE_FAILURE_LABEL['reset_after_ack']!,
  'reset by server',
  'reset by client',
  'server left in CLOSE_WAIT',
  'client left in CLOSE_WAIT',
  'SYN retransmitted',
];

/** Failure kinds of one flow as a bit set (0 = not failed); no allocation. */
function failureMaskOf(flow: FlowSummary): number {
  let mask = HANDSHAKE_FAILURE_BIT[flow.handshake] ?? 0;
  if (mask === 0 && flow.closeReason === 'reset') mask = flow.counts.rstServer > 0 ? FK_RESET_BY_SERVER : FK_RESET_BY_CLIENT;
  if (flow.finalState.server === 'CLOSE_WAIT') mask |= FK_SERVER_CLOSE_WAIT;
  if (flow.finalState.client === 'CLOSE_WAIT') mask |= FK_CLIENT_CLOSE_WAIT;
  if (flow.counts.synRetransmissions > 0 && flow.handshake === 'complete') mask |= FK_SYN_RETRANSMITTED;
  return mask;
}

/** Failure kinds of one flow, as shown per service (a flow may have several). */
export function failureKindsOf(flow: FlowRecord): string[] {
  const mask = failureMaskOf(flow);
  return FAILURE_KINDS.filter((_, i) => (mask & (1 << i)) !== 0);
}

function frameList(frames: readonly number[], total: number): string {
  if (total === 0) return 'none';
  const shown = frames.slice(0, 20).map((f) => `#${f}`).join(', ');
  const more = total > Math.min(frames.length, 20) ? ` … (${fmtInt(Math.min(frames.length, 20))} of ${fmtInt(total)} shown)` : '';
  return shown + more;
}

function serviceKey(flow: FlowSummary): string {
  return fmtEndpoint(flow.server.ip, flow.server.port);
}

/**
 * The first `k` of the indices `0..n-1` in `compare` order, sorted: one pass with an insertion
 * into a k-long list, O(n·k) instead of sorting all n (k is a display cap, n can be a million).
 */
function topK(n: number, k: number, compare: (a: number, b: number) => number): number[] {
  const top: number[] = [];
  if (k <= 0) return top;
  for (let i = 0; i < n; i += 1) {
    if (top.length === k && compare(i, top[k - 1]!) >= 0) continue;
    let j = top.length < k ? top.length : k - 1;
    while (j > 0 && compare(i, top[j - 1]!) < 0) {
      top[j] = top[j - 1]!;
      j -= 1;
    }
    top[j] = i;
  }
  return top;
}

/** Per-service counters of the scan; bins and RTTs are filled after it for the shown ones. */
interface ServiceAcc {
  readonly ip: string;
  readonly port: number;
  connections: number;
  failed: number;
  readonly failures: number[];
  opened: number[] | null;
  reset: number[] | null;
  rtt: number[] | null;
}

/**
 * What the report view reads off every flow, in one pass over the list (two when its span gives
 * other time bins than the capture's, see BinnedFlows) plus a look at the busiest hosts' flows:
 * the time bins and series, both sides' populations, services, RTTs, hosts, the first and the
 * failed flows' records for the table. It does not depend on the findings, so it can run while
 * the detectors do (see DiagnosisThread); only the named flows' positions and the swimlane's
 * flagged rows do, and those are noted here only when `isNamed` is given.
 */
export interface FlowViewPass {
  readonly flowCount: number;
  /** One swimlane row per flow (few flows); the rows' `flagged` needs `isNamed`. */
  readonly useRows: boolean;
  readonly bins: TimeBins;
  readonly binned: BinnedFlows;
  readonly services: ServiceAcc[];
  /** Per position: its service (index in `services`) and its RTT (NaN: none). */
  readonly flowService: Int32Array;
  readonly flowRtt: Float64Array;
  readonly failedFlows: readonly FlowRecord[];
  readonly headFlows: readonly FlowRecord[];
  readonly midstream: number;
  /** Both sides' state populations over the bins (see Population). */
  readonly clientSeries: StateSeries[];
  readonly serverSeries: StateSeries[];
  /** The busiest hosts (`maxHosts`), each with its population, and whether more were counted. */
  readonly hosts: ReportView['hosts'];
  readonly hostsOmitted: boolean;
  /** The handshake RTTs of all flows. */
  readonly rtt: RttStats | null;
  /** Whether `isNamed` was given: then the positions and built records of the named flows. */
  readonly namedNoted: boolean;
  readonly namedPosition: ReadonlyMap<number, number>;
  readonly namedRecords: ReadonlyMap<number, FlowRecord>;
}

/**
 * The pass of {@link FlowViewPass} over `report.flows`. Without `isNamed` (the findings are not
 * known yet), a list of at most `maxSwimlaneRows` flows cannot be passed over: its swimlane rows
 * are flagged by finding (make the pass with the findings then, it is small).
 */
export function scanFlowsForView(
  report: Pick<AnalysisReport, 'flows' | 'capture'>,
  options: Partial<ReportViewOptions> = {},
  isNamed?: (id: number) => boolean,
): FlowViewPass {
  const opts: ReportViewOptions = { ...DEFAULT_VIEW_OPTIONS, ...options };
  const flows = report.flows;
  const flowCount = flows.length;
  const namedPosition = new Map<number, number>();
  const namedRecords = new Map<number, FlowRecord>();
  if (isNamed === undefined && flowCount <= opts.maxSwimlaneRows) {
    throw new Error(`a pass over ${flowCount} flows draws their swimlane rows, which needs the findings (isNamed)`);
  }
  const named = isNamed ?? ((): boolean => false);
  // Pass 1: capture span, host and service counters, RTTs, table and ladder candidates, and what
  // is binned by time (see BinnedFlows), with the bins the capture's own span gives.
  let earliestStart = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  // Handshake RTTs in a preallocated typed array: sorted in place later, no boxing.
  const rttAll = new Float64Array(flowCount);
  let rttCount = 0;
  const services: ServiceAcc[] = [];
  const serviceByHost = new Map<string, Map<number, number>>();
  // Per position: each flow's service, its handshake RTT (NaN: none) and address keys (see
  // addressKeyWord), read after the pass for the shown services and hosts instead of scanning again.
  const flowService = new Int32Array(flowCount);
  const flowRtt = new Float64Array(flowCount);
  const clientWords = new Int32Array(flowCount);
  const serverWords = new Int32Array(flowCount);
  const failedFlows: FlowRecord[] = [];
  // The first flows by position, the table's filler after the named and the failed ones: the
  // table never needs more than `maxTableRows` of them, and keeping them saves a third access.
  const headFlows: FlowRecord[] = [];
  let midstream = 0;
  let lastService = -1;
  const useRows = flowCount <= opts.maxSwimlaneRows;

  // Busiest hosts: a Space-Saving sketch (Metwally et al., 2005) of `hostCandidates` counters in
  // pass 1 instead of an exact Map of every address, which at one client address per connection
  // cost more than the rest of the pass; any host with more than 1/hostCandidates of all
  // connection endpoints is guaranteed a candidate. The candidates are then counted exactly.
  const hostCandidates = Math.max(16, opts.maxHosts * 4);
  // Keyed by exact address keys (see FlowSummary.clientAddressKey: no text per flow from a store).
  // Found by their key words (see addressKeyWord) in a linear scan: with 16 counters that is cheaper
  // than a Map, whose delete and set on every eviction (one client address per connection) cost
  // more than the rest of the sketch.
  const sketchNames: (number | string)[] = [];
  const sketchWords = new Int32Array(hostCandidates);
  const sketchCounts = new Float64Array(hostCandidates);
  const sketchMiss = (ip: number | string, word: number): void => {
    const size = sketchNames.length;
    for (let i = 0; i < size; i += 1) {
      if (sketchWords[i] === word && sketchNames[i] === ip) {
        sketchCounts[i]! += 1;
        return;
      }
    }
    if (size < hostCandidates) {
      sketchWords[size] = word;
      sketchCounts[size] = 1;
      sketchNames.push(ip);
      return;
    }
    // Evict the smallest counter (first one on ties) and inherit its count.
    let min = 0;
    for (let i = 1; i < hostCandidates; i += 1) if (sketchCounts[i]! < sketchCounts[min]!) min = i;
    sketchWords[min] = word;
    sketchNames[min] = ip;
    sketchCounts[min]! += 1;
  };

  // The bins come from the span of the capture and of its flows (timeBinsOfSpan), which is known
  // before the scan but for odd input: the span runs to the last flow end, which is the capture's
  // last packet time when that packet is TCP (a flow ends at its last packet), and flows start
  // after the capture's first packet unless its clock stepped back. Pass 1 bins with that guess;
  // only when the flows' span gives other bins does a second pass bin again.
  // The packet time of the last packet (packetSeconds, so the same number as the `endSeconds` of
  // a flow that ends at it).
  const lastPacket = report.capture.lastTs === null ? undefined : parseIsoTimestamp(report.capture.lastTs);
  const lastPacketSeconds = lastPacket === undefined ? Number.NaN : packetSeconds(lastPacket.sec, lastPacket.nanos);
  const earlyBins =
    report.capture.firstTs === null || Number.isNaN(lastPacketSeconds)
      ? undefined
      : timeBinsOfSpan(report, Number.POSITIVE_INFINITY, lastPacketSeconds);
  let binned = earlyBins === undefined ? undefined : new BinnedFlows(earlyBins, flowCount, useRows, named, opts.trackedHosts);

  let fi = 0;
  // The scan reads summaries (see FlowList.scan) and builds a record only for a flow it keeps.
  scanFlows(flows, (flow, position) => {
    if (flow.startSeconds < earliestStart) earliestStart = flow.startSeconds;
    if (flow.endSeconds > lastEnd) lastEnd = flow.endSeconds;
    let record: FlowRecord | undefined;
    if (named(flow.id)) namedPosition.set(flow.id, position);
    if (headFlows.length < opts.maxTableRows) headFlows.push((record ??= recordAt(flows, position)));
    if (flow.handshake === 'not_seen') midstream += 1;
    if (flow.rttMs !== undefined) {
      rttAll[rttCount++] = flow.rttMs.total;
      flowRtt[fi] = flow.rttMs.total;
    } else {
      flowRtt[fi] = Number.NaN;
    }
    const serverIp = flow.server.ip;
    const clientKey = clientAddressKey(flow);
    const serverKey = serverAddressKey(flow);
    const clientWord = addressKeyWord(clientKey);
    const serverWord = addressKeyWord(serverKey);
    sketchMiss(clientKey, clientWord);
    sketchMiss(serverKey, serverWord);
    clientWords[fi] = clientWord;
    serverWords[fi] = serverWord;

    // Services keyed by ip then port: no key string per flow; the last one is cached.
    let si = lastService;
    if (si < 0 || flow.server.port !== services[si]!.port || serverIp !== services[si]!.ip) {
      let byPort = serviceByHost.get(serverIp);
      if (byPort === undefined) {
        byPort = new Map();
        serviceByHost.set(serverIp, byPort);
      }
      let found = byPort.get(flow.server.port);
      if (found === undefined) {
        found = services.length;
        byPort.set(flow.server.port, found);
        services.push({
          ip: serverIp,
          port: flow.server.port,
          connections: 0,
          failed: 0,
          failures: new Array<number>(FAILURE_KINDS.length).fill(0),
          opened: null,
          reset: null,
          rtt: null,
        });
      }
      si = found;
      lastService = si;
    }
    flowService[fi] = si;
    const acc = services[si]!;
    acc.connections += 1;
    const mask = failureMaskOf(flow);
    if (mask !== 0) {
      acc.failed += 1;
      for (let k = 0; k < FAILURE_KINDS.length; k += 1) if ((mask & (1 << k)) !== 0) acc.failures[k]! += 1;
      if (failedFlows.length < opts.maxTableRows) failedFlows.push((record ??= recordAt(flows, position)));
    }
    // A named flow whose record was built for the table is not built again by namedFlow.
    if (record !== undefined && namedPosition.has(flow.id)) namedRecords.set(flow.id, record);
    binned?.add(flow, fi, clientKey, serverKey);
    fi += 1;
  });

  const bins = timeBinsOfSpan(report, earliestStart, lastEnd);
  if (binned === undefined || !sameBins(binned.bins, bins)) {
    // Pass 2, only when the flows' span gives other bins than the guess: bin again with them.
    const again = new BinnedFlows(bins, flowCount, useRows, named, opts.trackedHosts);
    binned = again;
    fi = 0;
    scanFlows(flows, (flow) => {
      again.add(flow, fi, clientAddressKey(flow), serverAddressKey(flow));
      fi += 1;
    });
  }
  const binnedFlows = binned;
  const captureEnd = binnedFlows.captureEnd;

  // Host candidates (for the virtual netstat), each with an exact count and population.
  const candidateKeys = sketchNames.map((key) => ({ key, name: addressKeyText(key) })).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const candidateNames = candidateKeys.map((c) => c.name);
  const candidateCounts = new Array<number>(candidateNames.length).fill(0);
  const candidatePops: Population[] = new Array<Population>(candidateNames.length);
  // A candidate tracked from its first connection (see BinnedFlows.hosts) has its exact count and
  // population already. The others are counted again over the flows whose key words match theirs
  // (a text key's word is a hash, so a match is only a maybe): a second look at those flows only,
  // in flow order.
  const recount = new Map<number | string, number>();
  const recountWords = new Set<number>();
  candidateKeys.forEach((c, i) => {
    const tracked = binnedFlows.hosts.get(c.key);
    if (tracked !== undefined) {
      candidateCounts[i] = tracked.count;
      candidatePops[i] = tracked.pop;
    } else {
      candidatePops[i] = new Population(bins);
      recount.set(c.key, i);
      recountWords.add(addressKeyWord(c.key));
    }
  });
  if (recount.size > 0) {
    const countSide = (flow: FlowSummary): void => {
      const hc = recount.get(clientAddressKey(flow));
      if (hc !== undefined) {
        candidateCounts[hc]! += 1;
        walkSide(flow, 'client', captureEnd, candidatePops[hc]!);
      }
      const hs = recount.get(serverAddressKey(flow));
      if (hs !== undefined) {
        candidateCounts[hs]! += 1;
        walkSide(flow, 'server', captureEnd, candidatePops[hs]!);
      }
    };
    // A byte per low 16 bits of a word rules out nearly every flow before the set is asked.
    const maybe = new Uint8Array(65536);
    for (const w of recountWords) maybe[w & 0xffff] = 1;
    const positions: number[] = [];
    for (let p = 0; p < flowCount; p += 1) {
      const cw = clientWords[p]!;
      const sw = serverWords[p]!;
      if ((maybe[cw & 0xffff] === 1 && recountWords.has(cw)) || (maybe[sw & 0xffff] === 1 && recountWords.has(sw))) positions.push(p);
    }
    // One at a time while they are few; past about a tenth of the flows, a scan reads faster.
    if (positions.length * 10 <= flowCount) {
      for (const p of positions) {
        const flow = summaryAt(flows, p);
        if (flow === undefined) throw new Error(`flow list has no flow at position ${p} of its scan`);
        countSide(flow);
      }
    } else {
      scanFlows(flows, countSide);
    }
  }
  const topHosts = topK(
    candidateNames.length,
    opts.maxHosts,
    (a, c) => candidateCounts[c]! - candidateCounts[a]! || (candidateNames[a]! < candidateNames[c]! ? -1 : 1),
  );
  return {
    flowCount,
    useRows,
    bins,
    binned: binnedFlows,
    services,
    flowService,
    flowRtt,
    failedFlows,
    headFlows,
    midstream,
    clientSeries: binnedFlows.clientPop.series(),
    serverSeries: binnedFlows.serverPop.series(),
    hosts: topHosts.map((h) => ({
      host: candidateNames[h]!,
      connections: candidateCounts[h]!,
      series: candidatePops[h]!.series(),
    })),
    hostsOmitted: candidateNames.length > topHosts.length,
    rtt: rttStatsOf(rttAll.subarray(0, rttCount)),
    namedNoted: isNamed !== undefined,
    namedPosition,
    namedRecords,
  };
}

/**
 * The position of each flow id of `ids` found in `flows` (an analysis's list holds flow `id` at
 * position `id - 1`; any other list is scanned once for the ids not found that way).
 */
function positionsOf(flows: FlowList, ids: Iterable<number>): Map<number, number> {
  const out = new Map<number, number>();
  const missing = new Set<number>();
  for (const id of ids) {
    const p = id - 1;
    if (Number.isInteger(p) && p >= 0 && p < flows.length && summaryAt(flows, p)?.id === id) out.set(id, p);
    else missing.add(id);
  }
  if (missing.size === 0) return out;
  scanFlows(flows, (flow, position) => {
    if (missing.has(flow.id) && !out.has(flow.id)) out.set(flow.id, position);
  });
  return out;
}

/**
 * Builds the view model. Pure and deterministic: same report, same view.
 *
 * Reads `report.flows` in one scan of summaries (see `scanFlows`), and builds records only for
 * bounded sets of flows it shows: up to `maxTableRows` failed flows and the first `maxTableRows`
 * flows (the table candidates, kept from the scan), and, after it, the flows named by findings
 * that get a ladder or a table row (findings may name tens of thousands; the scan keeps only their
 * positions, or, when it was made before the findings, they are looked up after it: at `id - 1`,
 * else by one more scan). Records are matched by `id`.
 * - The scan gathers the capture span, host and service counters, RTTs, the table and ladder
 *   candidates, and bins by time (series, populations, swimlane rows, each flow's bins) with the
 *   span the capture facts give; a second scan bins again only when the flows' span differs (see
 *   BinnedFlows; a clock stepping back, a hand-edited result).
 * - The shown services' charts and RTTs come from per-flow columns the scan filled; the shown
 *   hosts' counts and populations from the server hosts it tracked, or from a second look at only
 *   the flows of the other candidate hosts (found by per-flow address key columns).
 * No per-flow objects or closures in the scan; everything per connection (table rows, swimlane
 * rows, ladders) is capped before it is built. Per-flow columns: 21 bytes a flow.
 *
 * @param pass - that scan when already made ({@link scanFlowsForView} over `report.flows`, with
 *   the same options; possibly before the findings were known, see diagnoseForReport); made here
 *   otherwise.
 */
export function buildReportView(report: AnalysisReport, options: Partial<ReportViewOptions> = {}, pass?: FlowViewPass): ReportView {
  const opts: ReportViewOptions = { ...DEFAULT_VIEW_OPTIONS, ...options };
  const flows = report.flows;
  const flowCount = flows.length;
  const ranked = rankFindings(report.findings);

  // Connections named by findings (findings may name tens of thousands), and whether a flow id
  // is one of them, tested per flow in both passes: by a bitmap over the ids an analysis gives
  // (1 .. flow count), by the map for any other id a hand-edited result may hold.
  const findingsOfFlow = new Map<number, string[]>();
  const namedBitmap = new Uint8Array(flowCount + 1);
  for (const f of ranked) {
    for (const id of f.flows) {
      const list = findingsOfFlow.get(id);
      if (list === undefined) {
        findingsOfFlow.set(id, [f.id]);
        if (Number.isInteger(id) && id >= 0 && id <= flowCount) namedBitmap[id] = 1;
      } else if (!list.includes(f.id)) {
        list.push(f.id);
      }
    }
  }
  const isNamed = (id: number): boolean =>
    Number.isInteger(id) && id >= 0 && id <= flowCount ? namedBitmap[id] === 1 : findingsOfFlow.has(id);

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
  const findingKinds = findingKindsOf(findingViews);

  // The pass over every flow (see scanFlowsForView): given, or made here with the findings'
  // named flows noted as it goes.
  const flowPass = pass ?? scanFlowsForView(report, opts, isNamed);
  if (flowPass.flowCount !== flowCount) throw new Error('the flow pass was made over another flow list');
  const { services, flowService, flowRtt, failedFlows, headFlows, midstream, bins } = flowPass;
  const binnedFlows = flowPass.binned;
  const useRows = flowPass.useRows;
  /**
   * Positions of the flows named by findings, by id (from the pass, or looked up after it when it
   * was made before the findings). Their records are built only for the ones shown (ladders and
   * table rows), by {@link namedFlow}: findings may name tens of thousands of flows.
   */
  const namedPosition = flowPass.namedNoted ? flowPass.namedPosition : positionsOf(flows, findingsOfFlow.keys());
  const namedRecords = new Map<number, FlowRecord>(flowPass.namedRecords);
  const namedFlow = (id: number): FlowRecord | undefined => {
    let record = namedRecords.get(id);
    if (record !== undefined) return record;
    const position = namedPosition.get(id);
    if (position === undefined) return undefined;
    record = recordAt(flows, position);
    namedRecords.set(id, record);
    return record;
  };
  const origin = bins.originSeconds;
  const rel = (epoch: number): number => epoch - origin;
  const n = bins.count;

  // Services: those named by findings first, then by connections.
  const findingsByEndpoint = new Map<string, { id: string; severity: Severity }[]>();
  for (const f of ranked) {
    const list = findingsByEndpoint.get(f.endpoint) ?? [];
    if (!list.some((x) => x.id === f.id)) list.push({ id: f.id, severity: f.severity });
    findingsByEndpoint.set(f.endpoint, list);
  }
  const serviceKeys = services.map((s) => fmtEndpoint(s.ip, s.port));
  const shownServices = topK(
    services.length,
    opts.maxServices,
    (a, c) =>
      (findingsByEndpoint.has(serviceKeys[c]!) ? 1 : 0) - (findingsByEndpoint.has(serviceKeys[a]!) ? 1 : 0) ||
      services[c]!.connections - services[a]!.connections ||
      (serviceKeys[a]! < serviceKeys[c]! ? -1 : 1),
  );
  for (const si of shownServices) {
    const acc = services[si]!;
    acc.opened = new Array<number>(n).fill(0);
    acc.reset = new Array<number>(n).fill(0);
    acc.rtt = [];
  }
  // The shown services' charts and RTTs, from the per-position columns, in flow order.
  for (let p = 0; p < flowCount; p += 1) {
    const acc = services[flowService[p]!]!;
    if (acc.opened === null || acc.reset === null || acc.rtt === null) continue;
    acc.opened[binnedFlows.startBin[p]!]! += 1;
    const resetBin = binnedFlows.resetBin[p]!;
    if (resetBin >= 0) acc.reset[resetBin]! += 1;
    const rtt = flowRtt[p]!;
    if (!Number.isNaN(rtt)) acc.rtt.push(rtt);
  }

  const { opened, closed, reset, synRetx, synAckRetx, swimRows } = binnedFlows;

  const serviceViews: ServiceView[] = shownServices.map((si) => {
    const acc = services[si]!;
    const endpoint = serviceKeys[si]!;
    const failures: { kind: string; count: number }[] = [];
    FAILURE_KINDS.forEach((kind, k) => {
      const count = acc.failures[k]!;
      if (count > 0) failures.push({ kind, count });
    });
    failures.sort((a, b) => b.count - a.count || (a.kind < b.kind ? -1 : 1));
    return {
      endpoint,
      connections: acc.connections,
      failed: acc.failed,
      failures,
      rtt: rttStatsOf(acc.rtt ?? []),
      opened: acc.opened ?? [],
      reset: acc.reset ?? [],
      findings: findingsByEndpoint.get(endpoint) ?? [],
    };
  });

  // Ladders: per finding in rank order, up to N of its connections not drawn for an earlier
  // finding; when all of them were, a reference to the diagrams already drawn.
  const ladders: LadderView[] = [];
  const ladderRefs: LadderRef[] = [];
  const drawn = new Set<number>();
  for (const fv of findingViews) {
    let taken = 0;
    for (const id of fv.finding.flows) {
      if (taken >= opts.laddersPerFinding || ladders.length >= opts.maxLadders) break;
      if (drawn.has(id)) continue;
      const flow = namedFlow(id);
      if (flow === undefined) continue;
      taken += 1;
      drawn.add(id);
      ladders.push({
        findingId: fv.finding.id,
        findingAnchor: fv.anchor,
        findingTitle: fv.finding.title,
        flow,
        heading:
          `Connection #${flow.id}: ${fmtEndpoint(flow.client.ip, flow.client.port)} → ${serviceKey(flow)}` +
          (flow.vlan >= 0 ? ` on VLAN ${vlanText(flow.vlan)}` : '') +
          (flow.incarnation > 1 ? ` (incarnation ${flow.incarnation})` : ''),
        startRel: rel(flow.startSeconds),
      });
    }
    if (taken === 0) {
      for (const id of fv.finding.flows) {
        if (drawn.has(id)) ladderRefs.push({ findingId: fv.finding.id, findingAnchor: fv.anchor, flowId: id });
        if (ladderRefs.filter((r) => r.findingAnchor === fv.anchor).length >= opts.laddersPerFinding) break;
      }
    }
  }
  let laddersOmitted = 0;
  for (const id of namedPosition.keys()) if (!drawn.has(id)) laddersOmitted += 1;

  // Connection table: flows named by findings first, then failures, then the rest; shown by id.
  const chosen = new Map<number, FlowRecord>();
  for (const f of ranked) {
    for (const id of f.flows) {
      if (chosen.size >= opts.maxTableRows) break;
      const flow = chosen.has(id) ? undefined : namedFlow(id);
      if (flow !== undefined) chosen.set(id, flow);
    }
  }
  for (let i = 0; i < failedFlows.length && chosen.size < opts.maxTableRows; i += 1) chosen.set(failedFlows[i]!.id, failedFlows[i]!);
  for (let i = 0; i < headFlows.length && chosen.size < opts.maxTableRows; i += 1) chosen.set(headFlows[i]!.id, headFlows[i]!);
  const tableFlows = [...chosen.values()].sort((a, b) => a.id - b.id);
  const stateSet = new Set<TcpState>();
  const rows: ConnectionRow[] = tableFlows.map((flow) => {
    stateSet.add(flow.finalState.client);
    stateSet.add(flow.finalState.server);
    return {
      id: flow.id,
      client: fmtEndpoint(flow.client.ip, flow.client.port),
      server: serviceKey(flow),
      vlan: vlanText(flow.vlan),
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

  const { clientSeries, serverSeries } = flowPass;
  const swimlane: SwimlaneView = useRows
    ? {
        mode: 'rows',
        rows: swimRows.sort((a, b) => (a.client[0]?.start ?? 0) - (b.client[0]?.start ?? 0) || a.flowId - b.flowId),
        durationSeconds: bins.durationSeconds,
      }
    : { mode: 'density', bins, client: clientSeries, server: serverSeries, flows: flowCount };

  const cap = report.capture;
  const facts: Fact[] = [
    { label: 'File', value: cap.file },
    { label: 'Format', value: `${cap.format}${cap.compressed ? ' (compressed)' : ''}, ${cap.byteOrder}, version ${cap.version}` },
    { label: 'Link types', value: cap.linkTypes.join(', ') || '–' },
    { label: 'Packets', value: `${fmtInt(cap.packets)} (${fmtInt(cap.tcpPackets)} TCP)` },
    { label: 'Bytes on the wire', value: `${fmtInt(cap.bytes)} (${fmtInt(cap.capturedBytes)} captured)` },
    { label: 'First packet', value: cap.firstTs ?? 'empty capture' },
    { label: 'Last packet', value: cap.lastTs ?? '–' },
    { label: 'Duration', value: fmtDuration(cap.durationSeconds) },
    { label: 'Connections', value: fmtInt(flowCount) },
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
    findingKinds,
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
    quality: qualityFacts(report, midstream),
    qualityItems: qualityItemsOf(report),
    qualityKnown: report.quality !== undefined,
    bins,
    series: { opened, closed, reset, synRetransmissions: synRetx, synAckRetransmissions: synAckRetx },
    population: { client: clientSeries, server: serverSeries },
    hosts: flowPass.hosts,
    hostsOmitted: flowPass.hostsOmitted,
    rtt: flowPass.rtt,
    ladders,
    ladderRefs,
    laddersOmitted,
    swimlane,
    services: serviceViews,
    servicesOmitted: Math.max(0, services.length - serviceViews.length),
    table: {
      rows,
      total: flowCount,
      omitted: flowCount - rows.length,
      states: POPULATION_ORDER.concat(['CLOSED']).filter((s) => stateSet.has(s)),
      // The kinds of finding, in the order of each one's first finding (findingKindsOf).
      findingIds: findingKinds.map((k) => k.id),
      hasVlan: rows.some((r) => r.vlan !== ''),
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Short names of the capture-quality items (`quality.items[].id`), for the report. */
const QUALITY_LABEL: Readonly<Record<string, string>> = {
  'started-mid-connection': 'Started mid-connection',
  'one-direction-missing': 'One direction missing',
  'capture-drops': 'Packets dropped by the capture',
  'snaplen-truncated': 'Packets cut by the snaplen',
  'duplicate-frames': 'Duplicated frames',
  'timestamps-backwards': 'Timestamps going backwards',
  'partial-capture': 'Capture read in part',
};

/**
 * The capture-quality items of the report (what the capture cannot show), worst first, each with
 * a short label and its sentence. Empty when the report has no `quality` section or no item.
 */
export function qualityItemsOf(report: AnalysisReport): QualityItemView[] {
  const items = report.quality?.items ?? [];
  return [...items]
    .map((item, i) => ({ item, i }))
    .sort((a, b) => SEVERITY_RANK[a.item.severity] - SEVERITY_RANK[b.item.severity] || a.i - b.i)
    .map(({ item }) => ({
      id: item.id,
      label: QUALITY_LABEL[item.id] ?? humanize(item.id),
      level: item.severity,
      severityLabel: SEVERITY_LABEL[item.severity],
      message: item.message,
      count: item.count,
    }));
}

/**
 * What the capture can and cannot show, as facts: how it was read (completely, drops, snaplen,
 * timestamp order, skipped packets, anomalies). The limits that affect the diagnoses are the
 * `quality` items ({@link qualityItemsOf}); `midstream` (connections whose handshake was not
 * captured) is listed here only for results without a `quality` section.
 */
export function qualityFacts(report: AnalysisReport, midstream = -1): Fact[] {
  const cap = report.capture;
  const out: Fact[] = [];
  out.push({
    label: 'Read completely',
    value: cap.partial ? 'no: reading stopped early, results are partial' : 'yes',
    level: cap.partial ? 'error' : 'ok',
  });
  out.push({
    label: 'Drops reported by the capture',
    value: cap.drops === null ? 'none reported (the file format may not record them)' : fmtInt(cap.drops),
    level: cap.drops !== null && cap.drops > 0 ? 'warning' : 'ok',
  });
  out.push({
    label: 'Packets cut by the snaplen',
    value: cap.truncatedPackets > 0 ? `${fmtInt(cap.truncatedPackets)} (headers complete; payload bytes not kept)` : 'none',
    level: cap.truncatedPackets > 0 ? 'info' : 'ok',
  });
  out.push({
    label: 'Timestamps going backwards',
    value: cap.timestampsBackwards > 0 ? fmtInt(cap.timestampsBackwards) : 'none',
    level: cap.timestampsBackwards > 0 ? 'warning' : 'ok',
  });
  if (report.quality === undefined) {
    let count = midstream;
    if (count < 0) {
      count = 0;
      scanFlows(report.flows, (f) => {
        if (f.handshake === 'not_seen') count += 1;
      });
    }
    if (count > 0) out.push({ label: 'Connections already open when the capture started', value: fmtInt(count), level: 'info' });
  }
  const skipped = Object.keys(cap.skipped).sort();
  const skippedTotal = skipped.reduce((sum, k) => sum + (cap.skipped[k] ?? 0), 0);
  out.push({
    label: 'Packets skipped (not TCP/IP)',
    value: skippedTotal === 0 ? 'none' : skipped.map((k) => `${k.replace(/_/g, ' ')}: ${fmtInt(cap.skipped[k] ?? 0)}`).join(', '),
  });
  const anomalies = Object.keys(cap.anomalies).sort();
  out.push(
    anomalies.length > 0
      ? {
          label: 'Anomalies (weirds)',
          value: anomalies.map((k) => `${k}: ${fmtInt(cap.anomalies[k] ?? 0)}`).join(', '),
          level: 'info',
        }
      : { label: 'Anomalies (weirds)', value: 'none' },
  );
  return out;
}

function humanize(key: string): string {
  const spaced = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]/g, ' ').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
