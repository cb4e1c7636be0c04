/**
 * The terminal summary printed by `tcpmortem summary` and after `tcpmortem report`: capture
 * facts, the verdict, findings with counts and endpoints, and where the report was written.
 * Pure: returns a string; colours (picocolors) only when asked for.
 */
import pc from 'picocolors';
import type { AnalysisReport } from './model.ts';
import type { Finding, QualityItemId, Severity } from '../diagnose/types.ts';
import { rankFindings, verdictOf } from './view-model.ts';
import { fmtBytes, fmtDuration, fmtInt, plural } from './format.ts';
import { ipField, listenerFilter } from '../diagnose/util.ts';

export interface SummaryOptions {
  /** ANSI colours; the CLI sets it when stdout is a TTY. */
  readonly color: boolean;
  /** Where the HTML report was written, printed last when set. */
  readonly reportPath?: string;
  /**
   * Findings listed in full, most severe first (default {@link DEFAULT_SUMMARY_FINDINGS}); the
   * rest are counted in one line by kind. `Infinity` lists every one.
   */
  readonly maxFindings?: number;
}

/**
 * Findings the summary lists in full by default. A busy capture has hundreds (the benchmark
 * capture: 288, one per service and kind), and four lines each buried the verdict and the report
 * path under a thousand lines of terminal; the report and the JSON keep every one.
 */
export const DEFAULT_SUMMARY_FINDINGS = 10;

/** Capture-quality items the summary's facts line already states (see renderSummary). */
const SAID_BY_FACTS: ReadonlySet<QualityItemId> = new Set<QualityItemId>(['capture-drops', 'snaplen-truncated', 'timestamps-backwards', 'partial-capture']);

/**
 * The findings past the summary's limit, in two lines: how many of each severity, and of each kind
 * (detector id) with its finding count, most first; then where the whole list is.
 */
function notShown(rest: readonly Finding[], sev: Record<Severity, (s: string) => string>, hasReport: boolean): string[] {
  const bySeverity = new Map<Severity, number>();
  const byId = new Map<string, number>();
  for (const f of rest) {
    bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
    byId.set(f.id, (byId.get(f.id) ?? 0) + 1);
  }
  const severities = (['error', 'warning', 'info'] as const)
    .filter((s) => bySeverity.has(s))
    .map((s) => sev[s](`${fmtInt(bySeverity.get(s)!)} ${s}`));
  const kinds = [...byId]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([id, n]) => `${id} ×${fmtInt(n)}`);
  const where = hasReport ? 'all of them are in the report' : 'all of them: tcpmortem report, or analyze --json';
  return [
    `  … ${plural(rest.length, 'more finding')} (${severities.join(', ')}): ${kinds.join(', ')}`,
    `    ${where}; --max-findings N lists more here`,
  ];
}

/** Renders the summary as newline-terminated text. */
export function renderSummary(report: AnalysisReport, options: SummaryOptions): string {
  const colors = pc.createColors(options.color);
  const sev: Record<Severity | 'ok', (s: string) => string> = {
    error: (s) => colors.bold(colors.red(s)),
    warning: (s) => colors.bold(colors.yellow(s)),
    info: (s) => colors.cyan(s),
    ok: (s) => colors.bold(colors.green(s)),
  };
  const cap = report.capture;
  const lines: string[] = [];
  lines.push(
    `${colors.bold(`tcpmortem ${report.tool.version}`)}  ${cap.file}  ` +
      colors.dim(
        `${cap.format}, ${plural(cap.packets, 'packet')} (${fmtInt(cap.tcpPackets)} TCP), ${fmtBytes(cap.bytes)}, ` +
          `${fmtDuration(cap.durationSeconds)}, ${plural(report.flows.length, 'connection')}`,
      ),
  );
  if (cap.firstTs !== null) lines.push(colors.dim(`  ${cap.firstTs} → ${cap.lastTs ?? ''}`));
  const quality: string[] = [];
  if (cap.partial) quality.push(sev.error('partial: reading stopped early'));
  if (cap.drops !== null && cap.drops > 0) quality.push(sev.warning(`${plural(cap.drops, 'drop')} reported`));
  if (cap.truncatedPackets > 0) quality.push(`${plural(cap.truncatedPackets, 'packet')} cut by snaplen`);
  if (cap.timestampsBackwards > 0) quality.push(sev.warning(`${plural(cap.timestampsBackwards, 'timestamp')} going backwards`));
  if (cap.warnings.length > 0) quality.push(sev.warning(plural(cap.warnings.length, 'reader warning')));
  if (quality.length > 0) lines.push(`  quality: ${quality.join(', ')}`);
  // The capture-quality items that weaken the findings (warning or error) and that the facts
  // above do not already say: duplicated frames, one direction missing, mid-connection starts.
  // Without them a capture of copies read "OK" here while the report warned.
  for (const item of report.quality?.items ?? []) {
    if (item.severity !== 'info' && !SAID_BY_FACTS.has(item.id)) lines.push(`  quality: ${sev[item.severity](item.message)}`);
  }
  lines.push('');
  const verdict = verdictOf(report);
  lines.push(`${sev[verdict.level](verdict.level === 'ok' ? 'OK' : verdict.level.toUpperCase())}  ${verdict.text}`);
  const ranked = rankFindings(report.findings);
  if (ranked.length > 0) {
    const shown = Math.max(0, Math.min(ranked.length, Math.floor(options.maxFindings ?? DEFAULT_SUMMARY_FINDINGS)));
    lines.push('');
    lines.push(colors.bold(shown < ranked.length ? `Findings (${ranked.length}, the first ${shown}):` : `Findings (${ranked.length}):`));
    for (const f of ranked.slice(0, shown)) {
      const label = f.severity.toUpperCase().padEnd(7);
      lines.push(`  ${sev[f.severity](label)}  ${colors.bold(f.title)}  ${f.endpoint}  ${colors.dim(`[${f.id}] ×${fmtInt(f.count)}`)}`);
      lines.push(`           ${f.summary}`);
      if (f.caveat !== undefined) lines.push(`           ${colors.yellow(`caveat: ${f.caveat}`)}`);
      lines.push(colors.dim(`           wireshark: ${terminalFilter(f)}`));
    }
    if (shown < ranked.length) lines.push(...notShown(ranked.slice(shown), sev, options.reportPath !== undefined));
  }
  for (const d of report.detectors) {
    if (d.status === 'error') lines.push(sev.error(`  detector ${d.id} failed: ${d.error ?? 'unknown error'}`));
  }
  if (options.reportPath !== undefined) {
    lines.push('');
    lines.push(`Report written to ${colors.bold(options.reportPath)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Longest Wireshark filter the summary prints as it is. A finding on dozens of connections can
 * carry one of ~1,000 characters (a clause per connection), a dozen lines of a terminal; past
 * this length the summary gives the filter of the finding's endpoint instead, which is short and
 * shows a superset, and says where the exact one is. The report and the JSON keep it whole.
 */
export const MAX_TERMINAL_FILTER_CHARS = 200;

/** The Wireshark filter the summary prints for `f` (see {@link MAX_TERMINAL_FILTER_CHARS}). */
export function terminalFilter(f: Pick<Finding, 'wiresharkFilter' | 'endpoint'>): string {
  const exact = f.wiresharkFilter;
  if (exact.length <= MAX_TERMINAL_FILTER_CHARS) return exact;
  const where = `the exact filter, ${fmtInt(exact.length)} characters, is in the report and the JSON`;
  const broad = endpointFilter(f.endpoint);
  return broad === undefined ? where : `${broad}  (this endpoint's traffic; ${where})`;
}

/**
 * The Wireshark filter of an endpoint as findings write it (`10.0.0.1:80`, `[fd00::1]:80`, or a
 * bare address), as the detectors build theirs (listenerFilter); undefined for other text.
 */
function endpointFilter(endpoint: string): string | undefined {
  const withPort = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(endpoint) ?? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(endpoint);
  if (withPort !== null) return listenerFilter({ ip: withPort[1]!, port: Number(withPort[2]) });
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(endpoint) || /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/.test(endpoint)) return `${ipField(endpoint)}.addr==${endpoint}`;
  return undefined;
}
