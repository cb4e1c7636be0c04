/**
 * `syn-retransmit`: a client sent its SYN again (same ISN). Infers the backoff the client's stack
 * used, how many retries that implies and whether the client gave up (connect timeout).
 */
import type { Endpoint, FlowRecord } from '../tcp/types.ts';
import { flowIndex, flowsAt, groupByListener, listenerAggregates } from './aggregates.ts';
import { clientActsConnected } from './handshake.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import { scanProbeIds } from './port-scan.ts';
import type { SynRetransmitOptions } from './options.ts';
import { isOneWayFlow, qualityCaveatOf } from './quality.ts';
import type { Detector, DetectorInput, Finding } from './types.ts';
import { isRst, isSyn, listenerFilter, makeFinding, maxOf, plural, round, segmentInstant, segmentSeconds, timeRange, timesText } from './util.ts';
import type { Instant } from './util.ts';

/**
 * The retry pattern a client's SYN gaps match:
 * - `exponential`: 1, 2, 4, 8 ... s (Linux before 6.5, or `tcp_syn_linear_timeouts=0`; RFC 6298 §5.5);
 * - `linear-then-exponential`: 1 s gaps first (Linux 6.5+, `tcp_syn_linear_timeouts`, default 4), then doubling;
 * - `windows`: 3, 6 ... s (Windows initial SYN RTO of 3 s);
 * - `undetermined`: too few retries, or another pattern.
 */
export type SynBackoff = 'exponential' | 'linear-then-exponential' | 'windows' | 'undetermined';

/** What one connection's SYN retries say. */
export interface SynRetryAnalysis {
  readonly flow: number;
  /** SYN retransmissions (exact counter). */
  readonly retries: number;
  /** Seconds between consecutive captured SYNs. */
  readonly gapsSeconds: readonly number[];
  readonly backoff: SynBackoff;
  /** True: answered by SYN-ACK after the retries; the seconds it took are `connectSeconds`. */
  readonly answered: boolean;
  readonly connectSeconds?: number;
  /** True when the client stopped retrying (or reset) although the capture went on long enough for another retry. */
  readonly gaveUp: boolean | 'unknown';
  readonly frames: readonly number[];
  readonly instants: readonly Instant[];
}

function near(value: number, target: number, tolerance: number): boolean {
  return Math.abs(value - target) <= tolerance * target;
}

/** Classifies gaps between SYNs against the known stacks' retry timers. */
export function classifySynBackoff(gaps: readonly number[], tolerance: number): SynBackoff {
  const g0 = gaps[0];
  if (g0 === undefined) return 'undetermined';
  if (near(g0, 3, tolerance)) return 'windows';
  if (!near(g0, 1, tolerance) || gaps.length < 2) return 'undetermined';
  const g1 = gaps[1]!;
  if (near(g1, 2 * g0, tolerance)) return 'exponential';
  if (near(g1, g0, tolerance)) return 'linear-then-exponential';
  return 'undetermined';
}

/** The gap the stack would wait before its next retry, given the pattern so far (seconds). */
function nextGap(gaps: readonly number[], backoff: SynBackoff): number {
  const last = gaps[gaps.length - 1] ?? 1;
  if (backoff === 'linear-then-exponential') {
    // 4 linear retries after the first 1 s timeout: five 1 s gaps, then doubling.
    const ones = gaps.filter((g) => g < 1.5).length;
    return ones < 5 ? 1 : 2 * last;
  }
  return 2 * last;
}

/** Capture end in epoch seconds: the last packet of any flow, or the capture's own last timestamp. */
export function captureEndSeconds(input: DetectorInput): number {
  let end = flowIndex(input).lastFlowSeconds;
  if (input.capture.lastTs !== null) {
    const parsed = Date.parse(input.capture.lastTs) / 1000;
    if (Number.isFinite(parsed) && parsed > end) end = parsed;
  }
  return end;
}

/** Analyses the SYN retries of one flow from its segment samples and counters. */
export function analyzeSynRetries(flow: FlowRecord, captureEnd: number, tolerance: number): SynRetryAnalysis {
  const syns = flow.segments.filter((s) => s.from === 'client' && isSyn(s));
  const times = syns.map((s) => segmentSeconds(flow, s));
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(round(times[i]! - times[i - 1]!, 6));
  const backoff = classifySynBackoff(gaps, tolerance);
  const synAck = flow.segments.find((s) => s.from === 'server' && s.flags.includes('S') && s.flags.includes('A'));
  // A client that went on with ACKs got a SYN-ACK the capture missed (one direction not captured).
  const answered = flow.counts.synAck > 0 || synAck !== undefined || clientActsConnected(flow);
  const lastSyn = times[times.length - 1] ?? flow.startSeconds;
  let gaveUp: boolean | 'unknown' = false;
  if (!answered) {
    const clientRst = flow.segments.some((s) => s.from === 'client' && isRst(s));
    if (clientRst) gaveUp = true;
    // Linux gives up exactly when the last retry's timer expires, sending nothing: a capture that
    // went on past that instant without another SYN shows the client gave up.
    else gaveUp = captureEnd - lastSyn >= nextGap(gaps, backoff) * (1 - tolerance / 3) ? true : 'unknown';
  }
  const firstSyn = times[0];
  return {
    flow: flow.id,
    retries: flow.counts.synRetransmissions,
    gapsSeconds: gaps,
    backoff,
    answered,
    ...(answered && synAck !== undefined && firstSyn !== undefined
      ? { connectSeconds: round(segmentSeconds(flow, synAck) - firstSyn, 6) }
      : {}),
    gaveUp,
    frames: syns.map((s) => s.frame),
    instants: syns.map((s) => segmentInstant(flow, s)),
  };
}

const BACKOFF_TEXT: Record<SynBackoff, string> = {
  exponential: 'exponential backoff 1, 2, 4 ... s (Linux with tcp_syn_linear_timeouts=0 or before 6.5)',
  'linear-then-exponential': '1 s linear retries (Linux 6.5+ tcp_syn_linear_timeouts)',
  windows: 'a 3 s initial timeout (Windows)',
  undetermined: 'no known backoff pattern (too few retries captured)',
};

export const synRetransmit: Detector<SynRetransmitOptions> = {
  id: 'syn-retransmit',
  title: 'SYN retransmitted',
  description: "A client sent its SYN again with the same ISN: the first one, or the server's answer, was lost or dropped.",
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['syn-retransmit'],
  evaluate(input, options) {
    const end = captureEndSeconds(input);
    const probes = scanProbeIds(input);
    // Below 1 retransmission every flow is a candidate: the list is walked once more.
    const candidates = options.minRetransmissions >= 1 ? flowsAt(input, flowIndex(input).synRetransmittedPositions) : input.flows;
    // Each affected connection's analysis, not its record (a lossy path can affect them all).
    const affected: { server: Endpoint; analysis: SynRetryAnalysis; oneWay: boolean }[] = [];
    for (const f of candidates) {
      if (f.counts.synRetransmissions >= options.minRetransmissions && !probes.has(f.id)) {
        affected.push({ server: f.server, analysis: analyzeSynRetries(f, end, options.backoffTolerance), oneWay: isOneWayFlow(f) });
      }
    }
    const findings: Finding[] = [];
    const listeners = listenerAggregates(input);
    for (const [endpoint, flows] of groupByListener(input, affected, (a) => a)) {
      const first = flows[0]!;
      const analyses = flows.map((a) => a.analysis);
      const retries = analyses.reduce((n, a) => n + a.retries, 0);
      const gaveUp = analyses.filter((a) => a.gaveUp === true).length;
      const answered = analyses.filter((a) => a.answered).length;
      const backoffs = [...new Set(analyses.map((a) => a.backoff))].filter((b) => b !== 'undetermined');
      const backoff: SynBackoff = backoffs.length === 1 ? backoffs[0]! : 'undetermined';
      const maxRetries = maxOf(analyses.map((a) => a.retries));
      const vantage = listeners.get(endpoint)?.vantage ?? 'unknown';
      const gaps = analyses[0]!.gapsSeconds;
      const gapsText = gaps.length === 0 ? 'gaps not captured' : `${gaps.length === 1 ? 'gap' : 'gaps'} ${gaps.map((g) => `${round(g, 2)}`).join(', ')} s`;
      const perConnection = flows.length === 1 ? [] : [maxRetries === 1 ? 'once each' : `up to ${maxRetries} per connection`];
      const detail = [...perConnection, gapsText, BACKOFF_TEXT[backoff]].join(', ');
      // How they ended, only the outcomes that occurred: answered late, gave up, or neither by the
      // end of the capture (still retrying, or the capture too short to tell).
      const pending = flows.length - answered - gaveUp;
      const outcomes =
        flows.length === 1
          ? answered === 1
            ? 'it was answered late'
            : gaveUp === 1
              ? 'the client gave up'
              : 'it was still unanswered when the capture ended'
          : [
              ...(answered > 0 ? [`${answered} answered late`] : []),
              ...(gaveUp > 0 ? [`${gaveUp} gave up`] : []),
              ...(pending > 0 ? [`${pending} still unanswered when the capture ended`] : []),
            ].join(', ');
      const summary = `${plural(flows.length, 'connection')} to ${endpoint} retransmitted the SYN ${timesText(retries)} (${detail}); ${outcomes}.`;
      const where =
        vantage === 'server'
          ? 'The capture was taken near the server, so these SYNs reached the server host and went unanswered there: a server-side drop.'
          : vantage === 'client'
            ? 'The capture was taken near the client, so the SYNs (or their SYN-ACKs) may have been lost anywhere on the path.'
            : 'Where the SYNs were lost cannot be told from this capture point.';
      const implied =
        gaveUp > 0
          ? ` The clients gave up after ${maxRetries} retries, which implies net.ipv4.tcp_syn_retries = ${maxRetries} on a Linux client (default 6, about 127 s with exponential backoff).`
          : '';
      findings.push(
        makeFinding(synRetransmit, {
          severity: gaveUp > 0 ? 'error' : 'warning',
          summary,
          explanation:
            `A client in SYN_SENT that gets no SYN-ACK retransmits the same SYN when its retransmission timer fires (RFC 9293 §3.8.1, RFC 6298 initial RTO 1 s). ` +
            `Each retry adds the timer to the connect time the application sees; when the retries run out, connect() fails with ETIMEDOUT. ${where}${implied}`,
          causes: [
            'The server dropped the SYN: its SYN queue or accept queue was full (listen backlog too small, application not accepting fast enough).',
            'A firewall, security group or nftables/iptables rule drops the SYN or the SYN-ACK.',
            'Packet loss or congestion on the path, or a route/ARP problem towards the server.',
            'Nothing at the address (a host that is down drops SYNs silently when a firewall is in front of it).',
          ],
          checks: [
            `On the server: ss -lnt 'sport = :${first.server.port}' (Recv-Q near Send-Q means the accept queue is full)`,
            'On the server: nstat -az TcpExtListenOverflows TcpExtListenDrops (increasing = SYNs dropped by the listener)',
            'sysctl net.core.somaxconn net.ipv4.tcp_max_syn_backlog, and the backlog the application passes to listen()',
            'nft list ruleset / iptables -S on both hosts and any firewall or security group in between',
            'On the client: sysctl net.ipv4.tcp_syn_retries net.ipv4.tcp_syn_linear_timeouts (the connect timeout they imply)',
          ],
          endpoint,
          flows: analyses.map((a) => a.flow),
          frames: analyses.flatMap((a) => a.frames),
          count: flows.length,
          ...timeRange(analyses.flatMap((a) => a.instants)),
          fallbackFilter: `tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.analysis.retransmission && ${listenerFilter(first.server)}`,
          // "Gave up" and "no answer" are absences: a one-way or lossy capture can fake them.
          caveat: qualityCaveatOf(input, flows.filter((a) => a.oneWay).length, ['repetition', 'timing', 'absence']),
          details: { backoff, gaveUp, answered, vantage, connections: analyses.map(({ instants: _i, frames: _f, ...rest }) => rest) },
        }),
      );
    }
    return findings;
  },
};

