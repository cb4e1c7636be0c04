/**
 * `accept-overflow-rst`: the server answered the client's final ACK (or first data) with a RST
 * within a few ms, sent no data of its own, and the RST's seq is its ISN+1 (relative seq 1):
 * the signature of a full accept queue with `tcp_abort_on_overflow=1`. Grouped per listener into
 * saturation episodes.
 */
import type { FlowRecord } from '../tcp/types.ts';
import { FLOW_GOT_THROUGH, flowIndex, flowsAt, groupByListener, matchFlows } from './aggregates.ts';
import type { FlowIndex, ListenerAggregate } from './aggregates.ts';
import { clientFinalAck } from './handshake.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { AcceptOverflowRstOptions } from './options.ts';
import { qualityCaveat } from './quality.ts';
import type { Detector, Finding } from './types.ts';
import type { Instant } from './util.ts';
import { isFin, isoFromSeconds, isRst, makeFinding, maxOf, minOf, plural, round, segmentInstant, segmentSeconds } from './util.ts';

/** What a finding needs of the connection (not its record: an overflow storm resets them all). */
export type OverflowFlowRef = Pick<FlowRecord, 'id' | 'client' | 'server' | 'start' | 'startSeconds'>;

/** One connection reset by the listener right after the handshake. */
export interface OverflowReset {
  readonly flow: OverflowFlowRef;
  readonly ackFrame: number;
  readonly rstFrame: number;
  /** The sampled ACK and RST, in capture order. */
  readonly instants: readonly Instant[];
  /** Epoch seconds of the RST. */
  readonly rstSeconds: number;
  readonly delayMs: number;
}

/** A run of overflow resets on one listener, no two more than `episodeGapSeconds` apart. */
export interface SaturationEpisode {
  readonly start: string;
  readonly end: string;
  readonly durationSeconds: number;
  readonly resets: number;
  /** Connections to the same listener that started inside the episode and completed normally. */
  readonly gotThrough: number;
  readonly flows: readonly number[];
}

/** Matches one flow against the accept-overflow RST signature. */
export function matchOverflowReset(flow: FlowRecord, options: AcceptOverflowRstOptions): OverflowReset | undefined {
  if (flow.counts.rstServer === 0 || flow.counts.dataBytesServer > 0) return undefined;
  if (flow.handshake !== 'complete' && flow.handshake !== 'reset_after_ack') return undefined;
  const ack = clientFinalAck(flow);
  if (ack === undefined) return undefined;
  // The RST must be the server's first segment after its SYN-ACK(s), at seq ISN+1: no data, no FIN before it.
  const rst = flow.segments.find((s) => s.from === 'server' && s.frame > ack.frame && !s.flags.includes('S'));
  if (rst === undefined || !isRst(rst) || rst.seq !== 1) return undefined;
  // A RST that answers the client's FIN is the server refusing a connection the client was already
  // closing (or a middlebox), not the kernel rejecting the final ACK: an overflow RST answers the
  // ACK or the first request bytes, and a client that closes first never sat in the accept queue.
  if (flow.segments.some((s) => s.from === 'client' && isFin(s) && s.frame < rst.frame)) return undefined;
  const delayMs = (segmentSeconds(flow, rst) - segmentSeconds(flow, ack)) * 1000;
  const limitMs = options.maxRstDelayMs + options.rttMultiple * (flow.rttMs?.total ?? 0);
  if (delayMs > limitMs) return undefined;
  return {
    flow: { id: flow.id, client: flow.client, server: flow.server, start: flow.start, startSeconds: flow.startSeconds },
    ackFrame: ack.frame,
    rstFrame: rst.frame,
    instants: flow.segments.filter((s) => s.frame === ack.frame || s.frame === rst.frame).map((s) => segmentInstant(flow, s)),
    rstSeconds: segmentSeconds(flow, rst),
    delayMs: round(delayMs, 3),
  };
}

/**
 * Counts the listener's connections that got through (handshake complete, or server data) and
 * started in [fromSeconds, toSeconds], leaving out the ids in `exceptIds` (the resets themselves).
 */
export type GotThroughCounter = (fromSeconds: number, toSeconds: number, exceptIds: ReadonlySet<number>) => number;

/**
 * The {@link GotThroughCounter} of a listener, from the pre-pass's columns: reads numbers at the
 * listener's positions, builds no record.
 */
export function listenerGotThrough(index: FlowIndex, listener: ListenerAggregate | undefined): GotThroughCounter {
  if (listener === undefined) return () => 0;
  const { id, startSeconds, flags } = index.columns;
  return (fromSeconds, toSeconds, exceptIds) => {
    let n = 0;
    for (const p of listener.positions) {
      const start = startSeconds[p]!;
      if ((flags[p]! & FLOW_GOT_THROUGH) !== 0 && start >= fromSeconds && start <= toSeconds && !exceptIds.has(id[p]!)) n++;
    }
    return n;
  };
}

/** Groups resets (any order) into episodes, and counts the listener's other connections inside each. */
export function groupEpisodes(resets: readonly OverflowReset[], gotThrough: GotThroughCounter, gapSeconds: number): SaturationEpisode[] {
  const sorted = [...resets].sort((a, b) => a.rstSeconds - b.rstSeconds || a.flow.id - b.flow.id);
  const runs: OverflowReset[][] = [];
  for (const r of sorted) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (run !== undefined && last !== undefined && r.rstSeconds - last.rstSeconds <= gapSeconds) run.push(r);
    else runs.push([r]);
  }
  const resetIds = new Set(resets.map((r) => r.flow.id));
  return runs.map((run) => {
    const startS = minOf(run.map((r) => r.flow.startSeconds));
    const endS = maxOf(run.map((r) => r.rstSeconds));
    const through = gotThrough(startS, endS, resetIds);
    const firstFlow = run.reduce((a, b) => (b.flow.startSeconds < a.flow.startSeconds ? b : a)).flow;
    return {
      start: firstFlow.start,
      end: isoFromSeconds(endS),
      durationSeconds: round(endS - startS, 6),
      resets: run.length,
      gotThrough: through,
      flows: run.map((r) => r.flow.id),
    };
  });
}

export const acceptOverflowRst: Detector<AcceptOverflowRstOptions> = {
  id: 'accept-overflow-rst',
  title: 'Accept queue full: connections reset',
  description: "The listener reset connections right after the client's final ACK, with no data: accept queue overflow with tcp_abort_on_overflow=1.",
  severity: 'error',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['accept-overflow-rst'],
  evaluate(input, options) {
    // A match needs a RST from the server, no server data and a completed handshake (see
    // matchOverflowReset and FlowIndex.overflowRstPositions).
    const index = flowIndex(input);
    const matches = matchFlows(flowsAt(input, index.overflowRstPositions), (f) => matchOverflowReset(f, options));
    const findings: Finding[] = [];
    for (const [endpoint, group] of groupByListener(input, matches, (m) => m.flow)) {
      const first = group[0]!.flow;
      const episodes = groupEpisodes(group, listenerGotThrough(index, index.listeners.get(endpoint)), options.episodeGapSeconds);
      const through = episodes.reduce((n, e) => n + e.gotThrough, 0);
      const maxDelay = maxOf(group.map((m) => m.delayMs));
      const instants = group.flatMap((m) => m.instants);
      instants.sort((a, b) => a.seconds - b.seconds);
      findings.push(
        makeFinding(acceptOverflowRst, {
          summary:
            `${endpoint} reset ${plural(group.length, 'connection')} within ${maxDelay} ms of the client's final ACK, in ${plural(episodes.length, 'saturation episode')} ` +
            `(${through} other ${through === 1 ? 'connection' : 'connections'} got through meanwhile).`,
          explanation:
            "Each of these clients completed the three-way handshake and the server's kernel answered the final ACK (or the first request bytes) at once with a RST carrying seq = ISN+1, before sending any data. " +
            'Linux does this when the listener\'s accept queue (bounded by min(listen() backlog, net.core.somaxconn)) is full and net.ipv4.tcp_abort_on_overflow = 1: the application never saw these connections. ' +
            'Clients get "connection reset by peer" on their first write or read, which proxies report as 502s.',
          causes: [
            'The application does not accept() fast enough for the arrival rate (blocked event loop, saturated worker pool, GC pause, slow start after deploy).',
            'The listen() backlog or net.core.somaxconn is too small for connection bursts.',
            'net.ipv4.tcp_abort_on_overflow=1 turns each overflow into a RST instead of a retried SYN-ACK.',
          ],
          checks: [
            `On the server: ss -lnt 'sport = :${first.server.port}' (Recv-Q at Send-Q = accept queue full)`,
            'nstat -az TcpExtListenOverflows TcpExtListenDrops (ListenOverflows counts each reset)',
            "sysctl net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_abort_on_overflow, and the backlog the application passes to listen()",
            'The application: accept loop and worker pool saturation during the episodes listed in details',
          ],
          endpoint,
          flows: group.map((m) => m.flow.id),
          frames: group.flatMap((m) => [m.ackFrame, m.rstFrame]),
          count: group.length,
          firstTs: instants[0]!.iso,
          lastTs: instants[instants.length - 1]!.iso,
          fallbackFilter: `tcp.flags.reset==1 && tcp.seq==1 && ip.src==${first.server.ip} && tcp.srcport==${first.server.port}`.replace(
            'ip.src',
            first.server.ip.includes(':') ? 'ipv6.src' : 'ip.src',
          ),
          // Timing evidence: the caveat reads the capture's clock, no flow (the matches keep none).
          caveat: qualityCaveat(input, [], ['timing']),
          details: {
            episodes,
            connections: group.map((m) => ({ flow: m.flow.id, ackFrame: m.ackFrame, rstFrame: m.rstFrame, delayMs: m.delayMs })),
          },
        }),
      );
    }
    return findings;
  },
};
