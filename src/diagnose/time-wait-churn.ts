/**
 * `time-wait-churn`: many short connections actively closed by the same host towards one
 * destination. Each active close leaves a TIME_WAIT socket for 2MSL holding its 4-tuple; with a
 * client closing first, that eats ephemeral ports towards the destination.
 */
import type { FlowRecord, Side, Transition } from '../tcp/types.ts';
import { FLOW_ACTIVE_CLOSE, FLOW_CLOSED_BY_SERVER, flowIndex, listenerKey } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { TimeWaitChurnOptions } from './options.ts';
import type { Detector, DetectorInput, Finding } from './types.ts';
import { ipField, isoFromSeconds, makeFinding, maxOf, minOf, plural, round } from './util.ts';
import type { Instant } from './util.ts';

/**
 * The side that sent the first FIN (the active closer), with that FIN's frame and time: its
 * earliest FIN_WAIT_1 transition (the first of equal times), the same one the pre-pass records in
 * the `activeClose…` columns.
 */
export function activeCloser(flow: FlowRecord): { side: Side; frame: number; at: Instant } | undefined {
  let best: Transition | undefined;
  for (const t of flow.transitions) {
    if (t.to !== 'FIN_WAIT_1') continue;
    if (best === undefined || t.tSeconds < best.tSeconds) best = t;
  }
  return best === undefined ? undefined : { side: best.side, frame: best.frame, at: { seconds: best.tSeconds, iso: best.ts } };
}

/**
 * A group of short connections actively closed by one side: positions in the input's list,
 * ascending, all closed by `side` (the server of one listener, or one client address towards it).
 */
interface CloseGroup {
  readonly side: Side;
  readonly positions: readonly number[];
}

/**
 * The short connections with an active closer, grouped by closer side, closer address and
 * listener, in order of each group's first connection, keeping only groups of at least
 * `minConnections`: `groupBy` over `side|closer ip|listener` text, built from the pre-pass's
 * columns without a record or a string per connection. A server closer's address is the
 * listener's. Client closes are counted per client address hash first; only the connections whose
 * hash reaches the threshold (a churning client: the finding's evidence, or rarely a hash shared
 * by several addresses) are fetched by position, to group them by their exact address text.
 */
function closedGroups(input: DetectorInput, options: TimeWaitChurnOptions): CloseGroup[] {
  const index = flowIndex(input);
  const { flags, durationSeconds, clientAddressHash } = index.columns;
  const max = options.maxConnectionSeconds;
  const found: { first: number; group: CloseGroup }[] = [];
  const keep = (side: Side, positions: number[]): void => {
    if (positions.length > 0 && !(positions.length < options.minConnections)) found.push({ first: positions[0]!, group: { side, positions } });
  };
  const isShortClientClose = (p: number): boolean =>
    (flags[p]! & (FLOW_ACTIVE_CLOSE | FLOW_CLOSED_BY_SERVER)) === FLOW_ACTIVE_CLOSE && durationSeconds[p]! <= max;
  // Short client closes per client address hash on the current listener.
  const perHash = new Map<number, number>();
  for (const listener of index.listeners.values()) {
    const byServer: number[] = [];
    let clientCloses = 0;
    for (const p of listener.positions) {
      const bits = flags[p]!;
      if ((bits & FLOW_ACTIVE_CLOSE) === 0) continue;
      if ((bits & FLOW_CLOSED_BY_SERVER) === 0) clientCloses++;
      else if (durationSeconds[p]! <= max) byServer.push(p);
    }
    keep('server', byServer);
    if (clientCloses < options.minConnections) continue;
    perHash.clear();
    for (const p of listener.positions) {
      if (isShortClientClose(p)) perHash.set(clientAddressHash[p]!, (perHash.get(clientAddressHash[p]!) ?? 0) + 1);
    }
    const byAddress = new Map<string, number[]>();
    for (const p of listener.positions) {
      if (!isShortClientClose(p) || perHash.get(clientAddressHash[p]!)! < options.minConnections) continue;
      const flow = input.flows.at(p);
      if (flow === undefined) continue;
      const group = byAddress.get(flow.client.ip);
      if (group === undefined) byAddress.set(flow.client.ip, [p]);
      else group.push(p);
    }
    for (const positions of byAddress.values()) keep('client', positions);
  }
  // Groups are disjoint, so first positions differ: the order is that of `groupBy`.
  found.sort((a, b) => a.first - b.first);
  return found.map((g) => g.group);
}

/**
 * Earliest and latest active close of a group as ISO text (what `timeRange` over the closes'
 * instants gives): the times are columns, the text is that of the FIN_WAIT_1 transition, so only
 * the records of those two flows are fetched (`first` is the group's first record, reused).
 */
function closeTimeRange(input: DetectorInput, positions: readonly number[], closeSeconds: readonly number[], first: FlowRecord): { firstTs: string; lastTs: string } {
  let earliest = 0;
  let latest = 0;
  for (let k = 1; k < closeSeconds.length; k++) {
    if (closeSeconds[k]! < closeSeconds[earliest]!) earliest = k;
    if (closeSeconds[k]! > closeSeconds[latest]!) latest = k;
  }
  const isoAt = (k: number): string => {
    const flow = k === 0 ? first : input.flows.at(positions[k]!);
    return (flow === undefined ? undefined : activeCloser(flow)?.at.iso) ?? '';
  };
  return { firstTs: isoAt(earliest), lastTs: isoAt(latest) };
}

/** Largest number of intervals [t, t + lifetime) overlapping at one instant. */
export function peakOverlap(starts: readonly number[], lifetimeSeconds: number): number {
  // A typed array sorts numbers without a comparator call per comparison.
  const sorted = Float64Array.from(starts).sort();
  let peak = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= lifetimeSeconds) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  return peak;
}

/** Length of the prefix of ascending `sorted` where `holds` is true (`holds` turns false once, and stays false). */
function countWhile(sorted: Float64Array, holds: (value: number) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (holds(sorted[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The estimated TIME_WAIT population sampled at `points` evenly spaced instants. */
export function timeWaitSeries(closes: readonly number[], lifetimeSeconds: number, points: number): { ts: string; sockets: number }[] {
  if (closes.length === 0 || points < 1) return [];
  const from = minOf(closes);
  const to = maxOf(closes) + lifetimeSeconds;
  const step = points > 1 ? (to - from) / (points - 1) : 0;
  const series: { ts: string; sockets: number }[] = [];
  if (lifetimeSeconds >= 0) {
    // The same counts by binary search: c + lifetime grows with c, and c + lifetime <= t implies
    // c <= t, so the sockets alive at t are those with c <= t minus those with c + lifetime <= t.
    const sorted = Float64Array.from(closes).sort();
    for (let i = 0; i < points; i++) {
      const t = from + i * step;
      const n = countWhile(sorted, (c) => c <= t) - countWhile(sorted, (c) => c + lifetimeSeconds <= t);
      series.push({ ts: isoFromSeconds(t), sockets: n });
    }
    return series;
  }
  for (let i = 0; i < points; i++) {
    const t = from + i * step;
    let n = 0;
    for (const c of closes) if (c <= t && t < c + lifetimeSeconds) n++;
    series.push({ ts: isoFromSeconds(t), sockets: n });
  }
  return series;
}

/** What is left of the ephemeral range, or by how much the estimate exceeds it. */
export function portsLeftText(headroom: number, ephemeralPorts: number): string {
  return headroom >= 0 ? `${headroom} of ${ephemeralPorts} left` : `${-headroom} more than the ${ephemeralPorts} of the range`;
}

export const timeWaitChurn: Detector<TimeWaitChurnOptions> = {
  id: 'time-wait-churn',
  title: 'TIME_WAIT churn',
  description: 'Many short connections actively closed by the same host: TIME_WAIT sockets pile up and use ephemeral ports.',
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['time-wait-churn'],
  evaluate(input, options) {
    const findings: Finding[] = [];
    const { id, clientPort, activeCloseSeconds, activeCloseFrame } = flowIndex(input).columns;
    for (const { side, positions } of closedGroups(input, options)) {
      // The group's first connection names the host, its TTL and the service.
      const first = input.flows.at(positions[0]!);
      if (first === undefined) throw new Error(`flow list has no flow at position ${positions[0]}`);
      const host = first[side].ip;
      const ttl = first.ttl[side];
      // TTL 128 is Windows' initial value (and nothing else common): use its 240 s TcpTimedWaitDelay.
      const windows = ttl > 64 && ttl <= 128;
      const lifetime = windows ? options.windowsTimeWaitSeconds : options.linuxTimeWaitSeconds;
      const closes = positions.map((p) => activeCloseSeconds[p]!);
      const span = maxOf(closes) - minOf(closes);
      // n closes span n-1 intervals.
      const ratePerSecond = (positions.length - 1) / Math.max(span, 1);
      const peak = peakOverlap(closes, lifetime);
      const projected = Math.round(ratePerSecond * lifetime);
      const ports = new Set(positions.map((p) => clientPort[p]!)).size;
      const worst = Math.max(peak, projected);
      const headroom = options.ephemeralPorts - worst;
      const endpoint = listenerKey(first);
      const severity = side === 'client' && worst >= options.warnPortFraction * options.ephemeralPorts ? 'warning' : 'info';
      findings.push(
        makeFinding(timeWaitChurn, {
          severity,
          summary:
            `${host} (the ${side}) actively closed ${plural(positions.length, 'short connection')} with ${endpoint} at ${round(ratePerSecond, 1)}/s, ` +
            `leaving an estimated ${peak} sockets in TIME_WAIT at peak (${projected} at this rate over ${lifetime} s); ${ports} client ports used, ${side === 'client' ? portsLeftText(headroom, options.ephemeralPorts) : 'ports are not at risk on the server side'}.`,
          explanation:
            `The side that sends the first FIN enters TIME_WAIT after the close and stays there for 2MSL (RFC 9293 §3.6.1): ${lifetime} s on ${windows ? 'Windows (TcpTimedWaitDelay)' : 'Linux (TCP_TIMEWAIT_LEN, not tunable)'}. ` +
            'Each TIME_WAIT socket keeps its 4-tuple, so a client opening and closing connections to one destination consumes one ephemeral port per connection per 2MSL. ' +
            `At ${round(ratePerSecond, 1)} closes/s this holds about ${projected} ports; the default range 32768-60999 has ${options.ephemeralPorts}. When it runs out, connect() fails with EADDRNOTAVAIL ("Cannot assign requested address").`,
          causes: [
            'A client that opens a new connection per request instead of reusing connections (no HTTP keep-alive, no connection pool).',
            'A server or proxy closing connections first after each response (Connection: close), which moves TIME_WAIT to its side.',
            'A health checker or monitoring probe connecting in a tight loop.',
          ],
          checks: [
            `On ${host}: ss -tan state time-wait | wc -l, and ss -s`,
            'sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_tw_reuse net.ipv4.tcp_max_tw_buckets',
            'nstat -az TcpExtTCPTimeWaitOverflow TcpExtTW',
            'The client: enable keep-alive / connection pooling; check whether it or the server sends "Connection: close"',
          ],
          endpoint,
          flows: positions.map((p) => id[p]!),
          frames: positions.map((p) => activeCloseFrame[p]!),
          count: positions.length,
          ...closeTimeRange(input, positions, closes, first),
          fallbackFilter: `tcp.flags.fin==1 && ${ipField(host)}.src==${host} && ${ipField(first.server.ip)}.addr==${first.server.ip} && tcp.port==${first.server.port}`,
          details: {
            closer: side,
            host,
            closesPerSecond: round(ratePerSecond, 3),
            timeWaitSeconds: lifetime,
            peakTimeWait: peak,
            projectedTimeWait: projected,
            clientPortsUsed: ports,
            ephemeralPorts: options.ephemeralPorts,
            headroomPorts: headroom,
            series: timeWaitSeries(closes, lifetime, options.seriesPoints),
          },
        }),
      );
    }
    return findings;
  },
};
