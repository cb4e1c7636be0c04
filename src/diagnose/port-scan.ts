/**
 * `port-scan` (info): one host probed many services (distinct server ip:port) with connections that
 * carried no data: refused, unanswered, or reset by the prober right after the handshake (a connect
 * or SYN scan: nmap, masscan, a health checker sweeping a subnet). The probes are summarised here
 * once; `connection-refused`, `reset`, `syn-dropped` and `syn-retransmit` leave them out, so a scan
 * does not read as many broken services.
 */
import type { FlowList, FlowSummary } from '../tcp/types.ts';
import { flowIndex } from './aggregates.ts';
import type { Probe } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { PortScanOptions } from './options.ts';
import type { Detector, DetectorInput, Finding } from './types.ts';
import { endpointText, ipField, makeFinding, plural } from './util.ts';

/** A connection that looks like a probe: no payload either way, and not a normal close. */
export function isProbe(flow: FlowSummary): boolean {
  if (flow.counts.dataBytesClient > 0 || flow.counts.dataBytesServer > 0) return false;
  if (flow.handshake === 'refused' || flow.handshake === 'no_synack' || flow.handshake === 'half_open') return true;
  // A connect scan completes the handshake and resets (or closes) at once.
  return (flow.handshake === 'complete' || flow.handshake === 'reset_after_ack') && flow.counts.rstClient > 0 && flow.counts.finServer === 0;
}

/**
 * `timeRange` over the probes' starts: the earliest and latest (the first of equal times), whose
 * ISO text is read from their records, the only two built.
 */
function probeTimeRange(input: DetectorInput, probes: readonly Probe[]): { firstTs: string; lastTs: string } {
  let first = probes[0];
  let last = first;
  for (const p of probes) {
    if (first === undefined || p.startSeconds < first.startSeconds) first = p;
    if (last === undefined || p.startSeconds > last.startSeconds) last = p;
  }
  const iso = (p: Probe | undefined): string => (p === undefined ? '' : (input.flows.at(p.position)?.start ?? ''));
  return { firstTs: iso(first), lastTs: iso(last) };
}

/** The most distinct services probed within any `windowSeconds` (probes in start order). */
export function maxTargetsInWindow(probes: readonly Probe[], windowSeconds: number): number {
  const sorted = [...probes].sort((a, b) => a.startSeconds - b.startSeconds);
  const inWindow = new Map<string, number>();
  let best = 0;
  let lo = 0;
  for (const f of sorted) {
    const k = endpointText(f.server);
    inWindow.set(k, (inWindow.get(k) ?? 0) + 1);
    while (f.startSeconds - sorted[lo]!.startSeconds > windowSeconds) {
      const old = endpointText(sorted[lo]!.server);
      const n = (inWindow.get(old) ?? 1) - 1;
      if (n === 0) inWindow.delete(old);
      else inWindow.set(old, n);
      lo++;
    }
    if (inWindow.size > best) best = inWindow.size;
  }
  return best;
}

/** One recognised scan: the scanning host and its probe flows. */
export interface Scan {
  readonly source: string;
  readonly probes: readonly Probe[];
  readonly targets: number;
  readonly hosts: number;
  readonly ports: number;
}

const cache = new WeakMap<FlowList, { key: string; scans: Scan[] }>();
const probeIdCache = new WeakMap<FlowList, ReadonlySet<number>>();

/** Distinct services (server `ip:port`) among probes. */
function targetCount(probes: readonly Probe[]): number {
  return new Set(probes.map((f) => endpointText(f.server))).size;
}

/**
 * A recognised scan, or undefined. `probes` are the probes of `source`; `tooFewProbes` says
 * whether they are fewer than `minProbeFraction` of all its flows (asked last: it may fetch records).
 */
function scanOf(source: string, probes: readonly Probe[], options: PortScanOptions, tooFewProbes: () => boolean): Scan | undefined {
  const targets = targetCount(probes);
  if (targets < options.minTargets) return undefined;
  if (maxTargetsInWindow(probes, options.windowSeconds) < options.minTargets) return undefined;
  if (tooFewProbes()) return undefined;
  return {
    source,
    probes,
    targets,
    hosts: new Set(probes.map((f) => f.server.ip)).size,
    ports: new Set(probes.map((f) => f.server.port)).size,
  };
}

/** The probes of one client address, and their positions (ascending). */
interface SourceProbes {
  readonly probes: Probe[];
  readonly positions: number[];
}

/**
 * Whether `source`'s probes are fewer than `fraction` of all its flows, and the position of its
 * first flow, from `matches`: the positions whose client address hash is the source's (ascending).
 * Those are the source's flows plus, rarely, flows of another address with the same hash. Its
 * probes are certainly its own; another match is checked with `at()` only while the answer or the
 * first position is still open, so a scanner (whose flows are mostly probes) costs few fetches.
 */
function probeShare(input: DetectorInput, source: string, sourceProbes: SourceProbes, matches: readonly number[], fraction: number): { tooFewProbes: boolean; first: number } {
  const probeCount = sourceProbes.probes.length;
  const probePositions = sourceProbes.positions;
  const firstProbe = probePositions[0] ?? Number.POSITIVE_INFINITY;
  // The source has between `lower` and `upper` flows; the answer is settled when both give the
  // same one (`fraction * flows` never decreases as flows grow when fraction > 0, and is never
  // above the probe count when fraction ≤ 0).
  const tooFew = (flows: number): boolean => probeCount < fraction * flows;
  let lower = probeCount;
  let upper = matches.length;
  let first = firstProbe;
  let k = 0;
  for (const p of matches) {
    if (probePositions[k] === p) {
      k++;
      continue;
    }
    const firstOpen = first === firstProbe && p < firstProbe;
    if (!firstOpen && tooFew(lower) === tooFew(upper)) break;
    if (input.flows.at(p)?.client.ip === source) {
      lower++;
      if (p < first) first = p;
    } else upper--;
  }
  return { tooFewProbes: tooFew(lower), first };
}

/**
 * The scans of a capture (memoised per input and options), in order of each source's first flow.
 * With `minTargets` ≥ 1 a scanning source has probes, so only the sources of probes are looked at:
 * the pre-pass's probe records, and its client address hashes for the count of their other flows
 * (see {@link probeShare}). Below 1 every client address can be a scan: the list is walked once
 * more to count the flows of each.
 */
export function findScans(input: DetectorInput, options: PortScanOptions): Scan[] {
  const key = `${options.minTargets}|${options.minProbeFraction}|${options.windowSeconds}`;
  const hit = cache.get(input.flows);
  if (hit !== undefined && hit.key === key) return hit.scans;
  const index = flowIndex(input);
  const probesBySource = new Map<string, SourceProbes>();
  for (const f of index.probes) {
    const group = probesBySource.get(f.client.ip);
    if (group === undefined) probesBySource.set(f.client.ip, { probes: [f], positions: [f.position] });
    else {
      group.probes.push(f);
      group.positions.push(f.position);
    }
  }
  const scans: Scan[] = [];
  if (options.minTargets >= 1) {
    // Sources that pass the checks on their probes alone, then one walk over the hash column
    // to find the positions of their flows.
    const candidates: { source: string; probes: SourceProbes; matches: number[] }[] = [];
    for (const [source, probes] of probesBySource) {
      if (targetCount(probes.probes) < options.minTargets) continue;
      if (maxTargetsInWindow(probes.probes, options.windowSeconds) < options.minTargets) continue;
      candidates.push({ source, probes, matches: [] });
    }
    if (candidates.length > 0) {
      const byHash = new Map<number, (typeof candidates)[number][]>();
      for (const c of candidates) {
        // The column's hash of this source (hashes depend on the list: see clientAddressHash).
        const h = index.columns.clientAddressHash[c.probes.positions[0]!]!;
        const list = byHash.get(h);
        if (list === undefined) byHash.set(h, [c]);
        else list.push(c);
      }
      const hashes = index.columns.clientAddressHash;
      for (let p = 0; p < hashes.length; p++) {
        const list = byHash.get(hashes[p]!);
        if (list !== undefined) for (const c of list) c.matches.push(p);
      }
    }
    const found: { scan: Scan; first: number }[] = [];
    for (const c of candidates) {
      const share = probeShare(input, c.source, c.probes, c.matches, options.minProbeFraction);
      const scan = scanOf(c.source, c.probes.probes, options, () => share.tooFewProbes);
      if (scan !== undefined) found.push({ scan, first: share.first });
    }
    found.sort((a, b) => a.first - b.first);
    for (const { scan } of found) scans.push(scan);
  } else {
    const flowsBySource = new Map<string, number>();
    for (const f of input.flows) flowsBySource.set(f.client.ip, (flowsBySource.get(f.client.ip) ?? 0) + 1);
    for (const [source, flows] of flowsBySource) {
      const probes = probesBySource.get(source)?.probes ?? [];
      const scan = scanOf(source, probes, options, () => probes.length < options.minProbeFraction * flows);
      if (scan !== undefined) scans.push(scan);
    }
  }
  cache.set(input.flows, { key, scans });
  return scans;
}

/** Drops the memoised scans of a list (see `forgetFlowIndex`). */
export function forgetScans(flows: FlowList): void {
  cache.delete(flows);
  probeIdCache.delete(flows);
}

/** Ids of the flows that are probes of a recognised scan (default thresholds). Memoised per input. */
export function scanProbeIds(input: DetectorInput): ReadonlySet<number> {
  const hit = probeIdCache.get(input.flows);
  if (hit !== undefined) return hit;
  const ids = new Set<number>();
  for (const scan of findScans(input, DEFAULT_DIAGNOSE_OPTIONS['port-scan'])) for (const f of scan.probes) ids.add(f.id);
  probeIdCache.set(input.flows, ids);
  return ids;
}

export const portScan: Detector<PortScanOptions> = {
  id: 'port-scan',
  title: 'Port scan',
  description: 'One host probed many services with connections that carried no data.',
  severity: 'info',
  defaultOptions: DEFAULT_DIAGNOSE_OPTIONS['port-scan'],
  evaluate(input, options) {
    const findings: Finding[] = [];
    for (const scan of findScans(input, options)) {
      const refused = scan.probes.filter((f) => f.handshake === 'refused').length;
      const silent = scan.probes.filter((f) => f.handshake === 'no_synack' || f.handshake === 'half_open').length;
      const open = scan.probes.length - refused - silent;
      findings.push(
        makeFinding(portScan, {
          summary:
            `${scan.source} probed ${plural(scan.targets, 'service')} (${plural(scan.hosts, 'host')}, ${plural(scan.ports, 'port')}) with ${plural(scan.probes.length, 'empty connection')}: ` +
            `${refused} refused, ${silent} unanswered, ${open} accepted then reset by the prober.`,
          explanation:
            'A host opened connections to many addresses or ports and sent no data on any of them: refusals (RST/ACK), silence and handshakes the prober reset at once are what a port or service scan leaves on the wire. ' +
            'These connections are not reported as refused or reset services: the answers describe the scanned hosts (closed, filtered, open), not a failure.',
          causes: ['A port scanner (nmap, masscan) or an inventory or vulnerability scan.', 'A monitoring system or load balancer health check sweeping a subnet.', 'A compromised host looking for services.'],
          checks: [`Who runs ${scan.source}, and whether the scan was expected`, 'Firewall logs for the same source'],
          endpoint: scan.source,
          flows: scan.probes.map((f) => f.id),
          frames: scan.probes.map((f) => f.firstFrame),
          count: scan.probes.length,
          ...probeTimeRange(input, scan.probes),
          fallbackFilter: `${ipField(scan.source)}.src==${scan.source} && tcp.flags.syn==1 && tcp.flags.ack==0`,
          details: { source: scan.source, targets: scan.targets, hosts: scan.hosts, ports: scan.ports, refused, unanswered: silent, accepted: open },
        }),
      );
    }
    return findings;
  },
};
