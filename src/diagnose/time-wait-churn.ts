/**
 * `time-wait-churn`: many short connections actively closed by the same host towards one
 * destination. Each active close leaves a TIME_WAIT socket for 2MSL holding its 4-tuple; with a
 * client closing first, that eats ephemeral ports towards the destination.
 */
import type { FlowRecord, Side, Transition } from '../tcp/types.ts';
import { ADDRESS_BUCKETS, flowIndex, listenerKey } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { TimeWaitChurnOptions } from './options.ts';
import type { Detector, DetectorInput, Finding } from './types.ts';
import { ipField, isoFromSeconds, makeFinding, plural, round, timeRange } from './util.ts';
import type { Instant } from './util.ts';

/** The side that sent the first FIN (the active closer), with that FIN's frame and time. */
export function activeCloser(flow: FlowRecord): { side: Side; frame: number; at: Instant } | undefined {
  let best: Transition | undefined;
  for (const t of flow.transitions) {
    if (t.to !== 'FIN_WAIT_1') continue;
    if (best === undefined || t.tSeconds < best.tSeconds) best = t;
  }
  return best === undefined ? undefined : closerOf(best);
}

/** The {@link activeCloser} result of its FIN_WAIT_1 transition. */
function closerOf(t: Transition): { side: Side; frame: number; at: Instant } {
  return { side: t.side, frame: t.frame, at: { seconds: t.tSeconds, iso: t.ts } };
}

type Closed = { flow: FlowRecord; closer: NonNullable<ReturnType<typeof activeCloser>> };

/**
 * The short connections with an active closer, grouped by closer side, closer address and
 * listener, in order of each group's first connection, keeping only groups of at least
 * `minConnections`: `groupBy` over `side|closer ip|listener` text, built from the shared index
 * (active closes per listener) without a string per connection. A server closer's address is the
 * listener's; client addresses are grouped only on listeners where one of them closed enough
 * connections (most closed connections of a capture come from addresses that close a few).
 */
function closedGroups(input: DetectorInput, options: TimeWaitChurnOptions): Closed[][] {
  const flows = input.flows;
  const max = options.maxConnectionSeconds;
  const found: { first: number; items: Closed[] }[] = [];
  const keep = (items: Closed[], first: number): void => {
    if (!(items.length < options.minConnections)) found.push({ first, items });
  };
  const buckets = new Int32Array(ADDRESS_BUCKETS);
  for (const closes of flowIndex(input).closes) {
    let first = -1;
    const byServer: Closed[] = [];
    for (let k = 0; k < closes.byServer.length; k++) {
      if (!(closes.byServerDuration[k]! <= max)) continue;
      if (first < 0) first = closes.byServer[k]!;
      byServer.push({ flow: flows[closes.byServer[k]!]!, closer: closerOf(closes.byServerFin[k]!) });
    }
    if (byServer.length > 0) keep(byServer, first);
    if (closes.byClient.length < options.minConnections) continue;
    // Most client addresses close a few connections each: count per bucket of the address first,
    // and group by address only the connections in buckets that reach the threshold.
    buckets.fill(0);
    for (let k = 0; k < closes.byClient.length; k++) if (closes.byClientDuration[k]! <= max) buckets[closes.byClientBucket[k]!]!++;
    const byIp = new Map<string, { first: number; items: Closed[] }>();
    for (let k = 0; k < closes.byClient.length; k++) {
      if (!(closes.byClientDuration[k]! <= max) || buckets[closes.byClientBucket[k]!]! < options.minConnections) continue;
      const flow = flows[closes.byClient[k]!]!;
      let group = byIp.get(flow.client.ip);
      if (group === undefined) {
        group = { first: closes.byClient[k]!, items: [] };
        byIp.set(flow.client.ip, group);
      }
      group.items.push({ flow, closer: closerOf(closes.byClientFin[k]!) });
    }
    for (const group of byIp.values()) keep(group.items, group.first);
  }
  // Groups are disjoint, so first positions differ: the order is that of `groupBy`.
  found.sort((a, b) => a.first - b.first);
  return found.map((g) => g.items);
}

/** Largest number of intervals [t, t + lifetime) overlapping at one instant. */
export function peakOverlap(starts: readonly number[], lifetimeSeconds: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
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
  const from = Math.min(...closes);
  const to = Math.max(...closes) + lifetimeSeconds;
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

export const timeWaitChurn: Detector<TimeWaitChurnOptions> = {
  id: 'time-wait-churn',
  title: 'TIME_WAIT churn',
  description: 'Many short connections actively closed by the same host: TIME_WAIT sockets pile up and use ephemeral ports.',
  severity: 'warning',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['time-wait-churn'],
  evaluate(input, options) {
    const findings: Finding[] = [];
    for (const group of closedGroups(input, options)) {
      const { flow: first, closer } = group[0]!;
      const side = closer.side;
      const host = first[side].ip;
      const ttl = first.ttl[side];
      // TTL 128 is Windows' initial value (and nothing else common): use its 240 s TcpTimedWaitDelay.
      const windows = ttl > 64 && ttl <= 128;
      const lifetime = windows ? options.windowsTimeWaitSeconds : options.linuxTimeWaitSeconds;
      const closes = group.map((c) => c.closer.at.seconds);
      const span = Math.max(...closes) - Math.min(...closes);
      // n closes span n-1 intervals.
      const ratePerSecond = (group.length - 1) / Math.max(span, 1);
      const peak = peakOverlap(closes, lifetime);
      const projected = Math.round(ratePerSecond * lifetime);
      const ports = new Set(group.map((c) => c.flow.client.port)).size;
      const worst = Math.max(peak, projected);
      const headroom = options.ephemeralPorts - worst;
      const endpoint = listenerKey(first);
      const severity = side === 'client' && worst >= options.warnPortFraction * options.ephemeralPorts ? 'warning' : 'info';
      findings.push(
        makeFinding(timeWaitChurn, {
          severity,
          summary:
            `${host} (the ${side}) actively closed ${plural(group.length, 'short connection')} with ${endpoint} at ${round(ratePerSecond, 1)}/s, ` +
            `leaving an estimated ${peak} sockets in TIME_WAIT at peak (${projected} at this rate over ${lifetime} s); ${ports} client ports used, ${side === 'client' ? `${headroom} of ${options.ephemeralPorts} left` : 'ports are not at risk on the server side'}.`,
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
          flows: group.map((c) => c.flow.id),
          frames: group.map((c) => c.closer.frame),
          count: group.length,
          ...timeRange(group.map((c) => c.closer.at)),
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
