/**
 * `port-scan` (info): one host probed many services (distinct server ip:port) with connections that
 * carried no data: refused, unanswered, or reset by the prober right after the handshake (a connect
 * or SYN scan: nmap, masscan, a health checker sweeping a subnet). The probes are summarised here
 * once; `connection-refused`, `reset`, `syn-dropped` and `syn-retransmit` leave them out, so a scan
 * does not read as many broken services.
 */
import type { FlowList, FlowRecord } from '../tcp/types.ts';
import { flowIndex } from './aggregates.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from './options.ts';
import type { PortScanOptions } from './options.ts';
import type { Detector, DetectorInput, Finding } from './types.ts';
import { endpointText, groupBy, ipField, makeFinding, plural, timeRange } from './util.ts';

/** A connection that looks like a probe: no payload either way, and not a normal close. */
export function isProbe(flow: FlowRecord): boolean {
  if (flow.counts.dataBytesClient > 0 || flow.counts.dataBytesServer > 0) return false;
  if (flow.handshake === 'refused' || flow.handshake === 'no_synack' || flow.handshake === 'half_open') return true;
  // A connect scan completes the handshake and resets (or closes) at once.
  return (flow.handshake === 'complete' || flow.handshake === 'reset_after_ack') && flow.counts.rstClient > 0 && flow.counts.finServer === 0;
}

/** The most distinct services probed within any `windowSeconds` (probes in start order). */
export function maxTargetsInWindow(probes: readonly FlowRecord[], windowSeconds: number): number {
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
  readonly probes: readonly FlowRecord[];
  readonly targets: number;
  readonly hosts: number;
  readonly ports: number;
}

const cache = new WeakMap<FlowList, { key: string; scans: Scan[] }>();
const probeIdCache = new WeakMap<FlowList, ReadonlySet<number>>();

/** A recognised scan, or undefined: `flows` counts all flows of `source`, `probes` are those that are probes. */
function scanOf(source: string, flows: number, probes: readonly FlowRecord[], options: PortScanOptions): Scan | undefined {
  const targets = new Set(probes.map((f) => endpointText(f.server))).size;
  if (targets < options.minTargets || probes.length < options.minProbeFraction * flows) return undefined;
  if (maxTargetsInWindow(probes, options.windowSeconds) < options.minTargets) return undefined;
  return {
    source,
    probes,
    targets,
    hosts: new Set(probes.map((f) => f.server.ip)).size,
    ports: new Set(probes.map((f) => f.server.port)).size,
  };
}

/**
 * The scans of a capture (memoised per input and options), in order of each source's first flow.
 * Reads the pre-pass only: its probe records, and its per-address flow counts and first positions.
 * With `minTargets` ≥ 1 a scanning source has probes, so only the sources of probes are looked at;
 * below 1 every client address is.
 */
export function findScans(input: DetectorInput, options: PortScanOptions): Scan[] {
  const key = `${options.minTargets}|${options.minProbeFraction}|${options.windowSeconds}`;
  const hit = cache.get(input.flows);
  if (hit !== undefined && hit.key === key) return hit.scans;
  const index = flowIndex(input);
  const clients = index.clients;
  const probesBySource = groupBy(index.probes, (f) => f.client.ip);
  const scans: Scan[] = [];
  if (options.minTargets >= 1) {
    const found: { scan: Scan; first: number }[] = [];
    for (const [source, probes] of probesBySource) {
      if (new Set(probes.map((f) => endpointText(f.server))).size < options.minTargets) continue;
      const address = clients.numberOf(source);
      if (address === undefined) continue;
      const scan = scanOf(source, clients.flowCount(address), probes, options);
      if (scan !== undefined) found.push({ scan, first: clients.firstPosition(address) });
    }
    found.sort((a, b) => a.first - b.first);
    for (const { scan } of found) scans.push(scan);
  } else {
    for (let address = 0; address < clients.size; address++) {
      const source = clients.text(address);
      const scan = scanOf(source, clients.flowCount(address), probesBySource.get(source) ?? [], options);
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
          ...timeRange(scan.probes.map((f) => ({ seconds: f.startSeconds, iso: f.start }))),
          fallbackFilter: `${ipField(scan.source)}.src==${scan.source} && tcp.flags.syn==1 && tcp.flags.ack==0`,
          details: { source: scan.source, targets: scan.targets, hosts: scan.hosts, ports: scan.ports, refused, unanswered: silent, accepted: open },
        }),
      );
    }
    return findings;
  },
};
