/**
 * The pure core: capture bytes in, {@link AnalysisReport} out.
 *
 * One packet's walk: `readCapture` frames a record and hands the reused CaptureRecord to the
 * {@link CaptureGatherer}; the gatherer counts it, decodes it into one reused TcpSegment, and
 * passes TCP segments to the FlowTracker; flows leave the tracker as FlowRecords when they close,
 * idle out, or at the end of the capture (an explicit `finish()` event); then every detector runs
 * over the closed flows, and the result is one JSON-serialisable report.
 *
 * This module does no I/O of its own: it reads only the byte chunks it is handed.
 */
import { readCapture } from './capture/index.ts';
import type {
  CaptureInterface,
  CaptureOptions,
  CaptureRecord,
  CaptureSummary,
  CaptureVisitor,
  CaptureWarning,
  InterfaceStatistics,
} from './capture/types.ts';
import { decodeFrame, linkTypeName } from './decode/index.ts';
import { ANOMALY, createTcpSegment, DecodeStatus } from './decode/types.ts';
import type { TcpSegment } from './decode/types.ts';
import { DEFAULT_FLOW_TRACKER_OPTIONS, FlowStore, FlowTracker } from './tcp/index.ts';
import type { FlowTrackerOptions } from './tcp/index.ts';
import type { FlowList } from './tcp/types.ts';
import { runDetectors } from './diagnose/index.ts';
import type { DiagnoseOptions, DiagnoseResult } from './diagnose/index.ts';
import { SCHEMA } from './report/model.ts';
import type { AnalysisReport, CaptureFacts, InterfaceFacts } from './report/model.ts';
import { compareTimestamps, formatIsoTimestamp } from './common/time.ts';
import { DuplicateFilter } from './dedupe/duplicate-filter.ts';
import { MergedFlowList, ShardedTracker } from './parallel/sharded-tracker.ts';
import { DiagnosisThread } from './parallel/diagnose-thread.ts';
import { DEFAULT_VIEW_OPTIONS, scanFlowsForView } from './report/view-model.ts';
import type { FlowViewPass, ReportViewOptions } from './report/view-model.ts';
import { VERSION } from './version.ts';

/** Options of {@link analyze} and {@link inspectCapture}. */
export interface AnalyzeOptions {
  /** The name the caller gives the input (a path, or `-` for stdin); only copied into the result. */
  readonly file: string;
  readonly capture?: Partial<CaptureOptions>;
  readonly flow?: Partial<FlowTrackerOptions>;
  readonly diagnose?: DiagnoseOptions;
  /**
   * Skip the detectors (findings stay empty): for what shows no finding (`tcpmortem flows`,
   * `netstat`) and for benchmarks of the earlier stages. Default false.
   */
  readonly skipDiagnosis?: boolean;
  /**
   * Worker threads for flow tracking (`--jobs`). Default 1: everything on the calling thread.
   * Any value gives the same result (see ShardedTracker for the one exception, past the
   * live-flow cap).
   */
  readonly jobs?: number;
  /**
   * Called every {@link PROGRESS_EVERY_RECORDS} records with the byte offset reached in the
   * (decompressed) stream and the records read so far. Must not throw.
   */
  readonly onProgress?: (byteOffset: number, records: number) => void;
  /**
   * Keep the flows in shared memory (see FlowStoreOptions.sharedMemory), so that another thread
   * can read them while this one does: for {@link diagnoseForReport} with several jobs. Default
   * false: V8 collects less eagerly beside ~100 MB of shared pages (the diagnosis of the
   * benchmark capture peaked ~45 MB higher).
   */
  readonly sharedMemory?: boolean;
  /** Set by the caller when it cut the input short on purpose (Ctrl-C): the result is marked partial. */
  readonly interrupted?: () => boolean;
}

/** How often `onProgress` is called, in records. */
export const PROGRESS_EVERY_RECORDS = 65536;

/** At most this many capture comments are kept in the result. */
const MAX_COMMENTS = 50;
/** At most this many record-level warnings are kept in the result (the reader stops at most of them). */
const MAX_WARNINGS = 100;

/** Where the gatherer sends TCP segments: a FlowTracker, or the shards of `--jobs`. */
interface SegmentSink {
  add(seg: TcpSegment, frameNumber: number, tsSec: number, tsNanos: number): void;
}

/** Waits for `gate` (when it returns a promise) before asking `source` for each next chunk. */
async function* gated(
  source: AsyncIterable<Uint8Array>,
  gate: () => Promise<void> | undefined,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    const wait = gate();
    if (wait !== undefined) await wait;
    yield chunk;
  }
}

/**
 * Collects capture facts from every record, decodes it, and forwards TCP segments.
 * Per record it allocates nothing: counters are numbers, anomaly names are interned constants.
 */
class CaptureGatherer implements CaptureVisitor {
  packets = 0;
  tcpPackets = 0;
  bytes = 0;
  capturedBytes = 0;
  truncatedPackets = 0;
  timestampsBackwards = 0;
  firstSec = -1;
  firstNanos = 0;
  lastSec = -1;
  lastNanos = 0;
  /** The previous record's time: `timestampsBackwards` compares with it, not with the latest. */
  private prevSec = -1;
  private prevNanos = 0;
  readonly interfaces: CaptureInterface[] = [];
  readonly packetsPerInterface: number[] = [];
  readonly lastStatistics = new Map<number, InterfaceStatistics>();
  readonly warnings: CaptureWarning[] = [];
  readonly comments: string[] = [];
  readonly skipped = new Map<string, number>();
  readonly anomalies = new Map<string, number>();
  private readonly segment: TcpSegment = createTcpSegment();
  private readonly duplicates = new DuplicateFilter();
  private tracker: SegmentSink | undefined;

  constructor(
    private readonly makeTracker: ((digits: number) => SegmentSink) | undefined,
    private readonly onProgress: ((byteOffset: number, records: number) => void) | undefined,
  ) {}

  interface(iface: CaptureInterface): void {
    this.interfaces.push(iface);
  }

  /** Keeps the last statistics block per interface: pcapng writers repeat ISBs with running totals. */
  statistics(stats: InterfaceStatistics): void {
    this.lastStatistics.set(stats.interfaceId, stats);
  }

  warning(warning: CaptureWarning): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(warning);
  }

  comment(text: string): void {
    if (this.comments.length < MAX_COMMENTS) this.comments.push(text);
  }

  record(rec: CaptureRecord): void {
    this.packets++;
    this.bytes += rec.originalLength;
    this.capturedBytes += rec.capturedLength;
    this.packetsPerInterface[rec.interfaceId] = (this.packetsPerInterface[rec.interfaceId] ?? 0) + 1;
    if (rec.capturedLength < rec.originalLength) this.truncatedPackets++;
    if (this.firstSec < 0) {
      this.firstSec = rec.tsSec;
      this.firstNanos = rec.tsNanos;
    } else if (compareTimestamps(rec.tsSec, rec.tsNanos, this.prevSec, this.prevNanos) < 0) {
      // Counted against the previous record, as documented: one clock step back is one, not every
      // record until the clock catches up with the latest time seen.
      this.timestampsBackwards++;
    }
    this.prevSec = rec.tsSec;
    this.prevNanos = rec.tsNanos;
    // The capture's last time is the latest seen, so a backwards step does not shorten it.
    if (compareTimestamps(rec.tsSec, rec.tsNanos, this.lastSec, this.lastNanos) > 0) {
      this.lastSec = rec.tsSec;
      this.lastNanos = rec.tsNanos;
    }
    if (this.onProgress !== undefined && this.packets % PROGRESS_EVERY_RECORDS === 0) {
      this.onProgress(rec.byteOffset, this.packets);
    }

    const seg = this.segment;
    const status = decodeFrame(rec.linkType, rec.bytes, rec.offset, rec.offset + rec.capturedLength, seg, rec.originalLength);
    switch (status) {
      case DecodeStatus.TCP:
        this.tcpPackets++;
        if (seg.anomaly !== ANOMALY.NONE) this.count(this.anomalies, seg.anomaly);
        if (this.duplicates.isDuplicate(seg, rec.tsSec, rec.tsNanos)) {
          // A copy of the segment just captured (see DuplicateFilter): counted, not tracked.
          this.count(this.anomalies, 'duplicate_frame');
          break;
        }
        if (this.makeTracker !== undefined) {
          this.tracker ??= this.makeTracker(this.precisionDigits());
          this.tracker.add(seg, rec.frameNumber, rec.tsSec, rec.tsNanos);
        }
        break;
      case DecodeStatus.NOT_TCP:
        this.count(this.skipped, 'not_tcp');
        break;
      case DecodeStatus.NOT_IP:
        this.count(this.skipped, 'not_ip');
        break;
      case DecodeStatus.FRAGMENT:
        this.count(this.skipped, 'fragment');
        break;
      case DecodeStatus.UNSUPPORTED_LINK:
        this.count(this.skipped, 'unsupported_link');
        break;
      case DecodeStatus.TRUNCATED:
        this.count(this.skipped, 'truncated');
        this.count(this.anomalies, seg.anomaly);
        break;
      case DecodeStatus.MALFORMED:
        this.count(this.skipped, 'malformed');
        this.count(this.anomalies, seg.anomaly);
        break;
      default:
        break;
    }
  }


  /** Fractional digits of the finest interface declared so far (6 for µs, 9 for ns). */
  precisionDigits(): number {
    let digits = 0;
    for (const iface of this.interfaces) digits = Math.max(digits, iface.tsPrecisionDigits);
    return digits === 0 ? 6 : digits;
  }

  private count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

/** Sorted plain object from a Map, so JSON output does not depend on insertion order. */
function sortedRecord(map: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of [...map.keys()].sort()) out[key] = map.get(key) ?? 0;
  return out;
}

function tsResolutionText(iface: CaptureInterface): string {
  const perSecond = iface.tsUnitsPerSecond;
  const log10 = Math.round(Math.log10(perSecond));
  if (10 ** log10 === perSecond) return `1e-${log10}`;
  const log2 = Math.round(Math.log2(perSecond));
  if (2 ** log2 === perSecond) return `2^-${log2}`;
  return `1/${perSecond}`;
}

function buildFacts(g: CaptureGatherer, summary: CaptureSummary, options: AnalyzeOptions): CaptureFacts {
  const digits = g.precisionDigits();
  let drops: number | null = null;
  const interfaces: InterfaceFacts[] = summary.interfaces.map((iface) => {
    const stats = g.lastStatistics.get(iface.interfaceId);
    const facts: InterfaceFacts = {
      id: iface.interfaceId,
      linkType: iface.linkType,
      linkTypeName: linkTypeName(iface.linkType),
      snapLength: iface.snapLength,
      tsResolution: tsResolutionText(iface),
      ...(iface.name !== undefined ? { name: iface.name } : {}),
      packets: g.packetsPerInterface[iface.interfaceId] ?? 0,
      ...(stats !== undefined && (stats.interfaceDrops !== undefined || stats.osDrops !== undefined)
        ? {
            drops: {
              ...(stats.interfaceDrops !== undefined ? { interface: stats.interfaceDrops } : {}),
              ...(stats.osDrops !== undefined ? { os: stats.osDrops } : {}),
            },
          }
        : {}),
    };
    if (stats !== undefined && (stats.interfaceDrops !== undefined || stats.osDrops !== undefined)) {
      drops = (drops ?? 0) + (stats.interfaceDrops ?? 0) + (stats.osDrops ?? 0);
    }
    return facts;
  });
  const linkTypes = [...new Set(interfaces.map((i) => i.linkTypeName))].sort();
  const hasPackets = g.firstSec >= 0;
  const durationSeconds = hasPackets
    ? g.lastSec - g.firstSec + (g.lastNanos - g.firstNanos) / 1e9
    : 0;
  const interrupted = options.interrupted?.() ?? false;
  return {
    file: options.file,
    format: summary.format,
    compressed: summary.compressed,
    byteOrder: [...new Set(summary.byteOrders)].join(', '),
    version: summary.version,
    sections: summary.sections,
    interfaces,
    linkTypes,
    packets: g.packets,
    tcpPackets: g.tcpPackets,
    bytes: g.bytes,
    capturedBytes: g.capturedBytes,
    firstTs: hasPackets ? formatIsoTimestamp(g.firstSec, g.firstNanos, digits) : null,
    lastTs: hasPackets ? formatIsoTimestamp(g.lastSec, g.lastNanos, digits) : null,
    durationSeconds: Math.round(durationSeconds * 1e9) / 1e9,
    drops,
    truncatedPackets: g.truncatedPackets,
    timestampsBackwards: g.timestampsBackwards,
    skipped: sortedRecord(g.skipped),
    anomalies: sortedRecord(g.anomalies),
    warnings: g.warnings.map((w) => ({
      code: w.code,
      message: w.message,
      byteOffset: w.byteOffset,
      ...(w.frameNumber !== undefined ? { frame: w.frameNumber } : {}),
    })),
    partial: summary.stoppedEarly || interrupted,
    comments: g.comments,
  };
}

/**
 * Reads a capture and reports its facts (what `tcpmortem info` prints): no flow tracking.
 * Throws CaptureFormatError when the input is not a capture at all.
 */
export async function inspectCapture(
  source: AsyncIterable<Uint8Array>,
  options: AnalyzeOptions,
): Promise<CaptureFacts> {
  const g = new CaptureGatherer(undefined, options.onProgress);
  const summary = await readCapture(source, g, options.capture);
  return buildFacts(g, summary, options);
}

/**
 * The whole analysis: capture facts, every TCP connection with both endpoints' states, and the
 * findings of every registered detector. Throws CaptureFormatError when the input is not a capture
 * at all; a damaged capture gives a result marked `capture.partial` with warnings.
 */
export async function analyze(
  source: AsyncIterable<Uint8Array>,
  options: AnalyzeOptions,
): Promise<AnalysisReport> {
  // Flows leave the tracker into the compact store (slot = id - 1, so the store is in id order);
  // records are built again only when a later stage asks for them (see FlowStore). With jobs > 1
  // the flows are tracked by worker-thread shards and merged (see ShardedTracker): same result.
  const jobs = Math.max(1, Math.floor(options.jobs ?? 1));
  let flows: FlowList = [];
  let tracker: FlowTracker | undefined;
  let sharded: ShardedTracker | undefined;
  let trackerDigits = 6;
  const g = new CaptureGatherer((digits) => {
    trackerDigits = digits;
    if (jobs > 1) {
      sharded = new ShardedTracker(jobs, options.flow ?? {}, digits, options.sharedMemory === true);
      return sharded;
    }
    const store = new FlowStore({
      tsPrecisionDigits: digits,
      keepRoutineSamplesOfFirstFlows:
        options.flow?.keepRoutineSamplesOfFirstFlows ?? DEFAULT_FLOW_TRACKER_OPTIONS.keepRoutineSamplesOfFirstFlows,
      sharedMemory: options.sharedMemory === true,
    });
    flows = store;
    tracker = new FlowTracker({ ...options.flow, tsPrecisionDigits: digits }, store);
    return tracker;
  }, options.onProgress);
  let summary: CaptureSummary;
  try {
    summary = await readCapture(jobs > 1 ? gated(source, () => sharded?.whenReady()) : source, g, options.capture);
  } catch (error) {
    await sharded?.abort();
    throw error;
  }
  // The end-of-capture event.
  tracker?.finish();
  if (sharded !== undefined) flows = await sharded.finish();
  // A kept flood flow takes its id late (see synFloodOutstanding): the merged view numbers the
  // flows by first frame again, as it does the shards' flows (same ids for any --jobs).
  if (flows instanceof FlowStore && !flows.inFirstFrameOrder()) flows = new MergedFlowList([flows]);
  const folds = (tracker?.folds ?? sharded?.folds)?.toList(trackerDigits) ?? [];
  const facts = buildFacts(g, summary, options);
  const capture: CaptureFacts = folds.length > 0 ? { ...facts, unansweredSynsFolded: folds } : facts;
  const tool = { name: 'tcpmortem', version: VERSION } as const;
  if (options.skipDiagnosis === true) return { schema: SCHEMA, tool, capture, flows, findings: [], detectors: [] };
  const diagnosis = runDetectors({ flows, capture }, options.diagnose);
  return {
    schema: SCHEMA,
    tool,
    capture,
    flows,
    findings: diagnosis.findings,
    detectors: diagnosis.detectors,
    quality: diagnosis.quality,
  };
}

/** Options of {@link diagnoseForReport}. */
export interface DiagnoseForReportOptions {
  /** Threads (`--jobs`): with more than one, the diagnosis runs on a second one. Default 1. */
  readonly jobs?: number;
  readonly diagnose?: DiagnoseOptions;
  /** The caps the report will be rendered with (the view pass depends on them). */
  readonly view?: Partial<ReportViewOptions>;
  /**
   * Called on this thread once its pass over the flows is made, when the diagnosis thread is
   * still at work: for work that needs neither (`prepareRenderer`). Not called on one thread.
   */
  readonly whileWaiting?: () => void;
  /**
   * A diagnosis thread started before the analysis (so its start overlaps it); used when the
   * diagnosis runs on a second thread, closed otherwise. Default: one started when needed.
   */
  readonly thread?: DiagnosisThread;
}

/**
 * The diagnosis of an analysis made with `skipDiagnosis`, for a report: with `jobs > 1` the
 * detectors run in a worker thread (see DiagnosisThread) while this thread makes the report
 * view's pass over the flows ({@link scanFlowsForView}), which does not need the findings; give
 * that pass to `renderHtml` with the same view caps. Otherwise (one job, few flows, or a list of
 * records) the detectors run here and there is no pass (renderHtml makes it). Either way the
 * findings are those {@link analyze} gives, and the report renders byte for byte the same.
 */
export async function diagnoseForReport(
  report: AnalysisReport,
  options: DiagnoseForReportOptions = {},
): Promise<{ readonly report: AnalysisReport; readonly viewPass: FlowViewPass | undefined }> {
  const view = options.view ?? {};
  const swimlaneRows = view.maxSwimlaneRows ?? DEFAULT_VIEW_OPTIONS.maxSwimlaneRows;
  const input = { flows: report.flows, capture: report.capture };
  // A few hundred flows render in milliseconds: not worth a thread (and their swimlane rows are
  // flagged by finding, so the pass needs the findings; see scanFlowsForView).
  const twoThreads = (options.jobs ?? 1) > 1 && report.flows.length > swimlaneRows;
  const thread = twoThreads ? (options.thread ?? new DiagnosisThread()) : undefined;
  const pending = thread?.run(input, options.diagnose);
  let viewPass: FlowViewPass | undefined;
  let diagnosis: DiagnoseResult;
  if (pending === undefined) {
    (thread ?? options.thread)?.close();
    diagnosis = runDetectors(input, options.diagnose);
  } else {
    viewPass = scanFlowsForView(report, view);
    options.whileWaiting?.();
    diagnosis = await pending;
  }
  return {
    report: { ...report, findings: diagnosis.findings, detectors: diagnosis.detectors, quality: diagnosis.quality },
    viewPass,
  };
}
