/**
 * The command line: parse arguments, build options, call the core, write outputs, return the exit
 * code. All I/O of the product lives here (files, stdin, stdout, stderr, signals, TTY detection).
 *
 * Exit codes: 0 success (no finding at or above --fail-on); 1 a finding at or above --fail-on;
 * 2 usage error or unusable input (not a capture, unreadable file); 130 interrupted with
 * --no-partial.
 */
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { analyze, inspectCapture } from '../analyze.ts';
import type { AnalyzeOptions } from '../analyze.ts';
import { CaptureFormatError } from '../capture/types.ts';
import type { AnalysisReport, CaptureFacts } from '../report/model.ts';
import { SCHEMA } from '../report/model.ts';
import { renderHtml, renderSummary, anonymizeReport } from '../report/index.ts';
import { filterFlows, netstatAt } from '../query/index.ts';
import type { TcpState } from '../tcp/types.ts';
import type { Severity } from '../diagnose/types.ts';
import { formatFlowsTable, formatFlowsCsv, formatFlowsNdjson, formatInfo, formatNetstat } from './format.ts';
import { ProgressBar } from './progress.ts';
import { VERSION } from '../version.ts';

/** Usage error: printed as one line, exit 2. */
class UsageError extends Error {}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

interface CommonArgs {
  capture: string;
  quiet: boolean;
  partial: boolean;
}

/**
 * yargs turns a lone `-` into an empty string, so `-` (stdin) is swapped for this token before
 * parsing and back when opening the source.
 */
const STDIN_TOKEN = '\u0000stdin';

/** The capture currently being read, for one-line error messages. */
let currentFile = '';

/** Opens a capture path or `-` (stdin) as a byte source; the size is known for regular files. */
function openSource(path: string): { source: AsyncIterable<Uint8Array>; size: number | undefined; close: () => void } {
  if (path === STDIN_TOKEN) path = '-';
  currentFile = path;
  if (path === '-') {
    return { source: process.stdin, size: undefined, close: () => process.stdin.destroy() };
  }
  let size: number | undefined;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new UsageError(`${path}: is a directory`);
    size = st.isFile() ? st.size : undefined;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((err as Error).message)}`);
  }
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  return { source: stream, size, close: () => stream.destroy() };
}

/**
 * Runs `work` over the capture with a progress bar on a TTY and Ctrl-C handling: the first SIGINT
 * ends the input, so the analysis finishes on what was read and is marked partial (or exits 130
 * with --no-partial).
 */
async function withCapture<T>(
  args: CommonArgs,
  work: (source: AsyncIterable<Uint8Array>, options: AnalyzeOptions) => Promise<T>,
): Promise<T> {
  const { source, size, close } = openSource(args.capture);
  let interrupted = false;
  const progress = !args.quiet && process.stderr.isTTY ? new ProgressBar(process.stderr, size) : undefined;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    if (!args.partial) {
      process.stderr.write('\ntcpmortem: interrupted\n');
      process.exit(130);
    }
    process.stderr.write('\ntcpmortem: interrupted: finishing with what was read so far (Ctrl-C again to quit)\n');
    close();
  };
  process.on('SIGINT', onSigint);
  try {
    return await work(source, {
      file: currentFile,
      ...(progress !== undefined ? { onProgress: (offset: number, records: number) => progress.update(offset, records) } : {}),
      interrupted: () => interrupted,
    });
  } finally {
    process.off('SIGINT', onSigint);
    progress?.done();
  }
}

function warnCaptureProblems(capture: CaptureFacts, quiet: boolean): void {
  if (quiet) return;
  for (const w of capture.warnings) {
    process.stderr.write(`tcpmortem: warning: ${capture.file}: ${w.message} (at byte ${w.byteOffset})\n`);
  }
}

function finalize(report: AnalysisReport, anonymizeKey: string | undefined): AnalysisReport {
  return anonymizeKey === undefined ? report : anonymizeReport(report, anonymizeKey);
}

function exitCodeFor(report: AnalysisReport, failOn: string): number {
  if (failOn === 'never') return 0;
  const threshold = SEVERITY_RANK[failOn as Severity];
  return report.findings.some((f) => SEVERITY_RANK[f.severity] >= threshold) ? 1 : 0;
}

function writeOut(path: string | undefined, text: string): void {
  if (path === undefined || path === '-') process.stdout.write(text);
  else writeFileSync(path, text);
}

function parseAt(at: string | undefined, report: AnalysisReport): number {
  const lastSeconds = report.capture.lastTs !== null ? Date.parse(report.capture.lastTs) / 1000 : 0;
  const lastPrecise = Math.max(lastSeconds, ...report.flows.map((f) => f.endSeconds));
  if (at === undefined || at === 'end') return lastPrecise;
  if (/^[+]?\d+(\.\d+)?s?$/.test(at)) {
    const first = report.capture.firstTs !== null ? Date.parse(report.capture.firstTs) / 1000 : 0;
    return first + Number.parseFloat(at.replace(/[+s]/g, ''));
  }
  const parsed = Date.parse(at);
  if (Number.isNaN(parsed)) throw new UsageError(`--at ${at}: not a time (use ISO 8601, "end", or seconds from the start like 12.5s)`);
  return parsed / 1000;
}

const captureArg = (y: Argv) =>
  y
    .positional('capture', { type: 'string', describe: 'pcap/pcapng file (optionally gzip-compressed), or - for stdin', demandOption: true })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress bar, no warnings on stderr' })
    .option('partial', { type: 'boolean', default: true, describe: 'on Ctrl-C, finish with what was read (--no-partial: exit 130)' });

/** Entry point; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv.map((a) => (a === '-' ? STDIN_TOKEN : a)))
    .scriptName('tcpmortem')
    .version(VERSION)
    .strict()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .command(
      'info <capture>',
      'capture facts: format, interfaces, packets, times, drops, anomalies (like capinfos)',
      (y) => captureArg(y).option('json', { type: 'boolean', default: false, describe: 'machine-readable JSON' }),
      async (args) => {
        const facts = await withCapture(args as unknown as CommonArgs, (source, options) => inspectCapture(source, options));
        warnCaptureProblems(facts, args.quiet);
        process.stdout.write(args.json ? `${JSON.stringify({ schema: SCHEMA, capture: facts }, null, 2)}\n` : formatInfo(facts));
      },
    )
    .command(
      'analyze <capture>',
      'full analysis: flows, both endpoints\' states, findings (JSON with --json)',
      (y) =>
        captureArg(y)
          .option('json', { type: 'boolean', default: false, describe: 'print the tcpmortem/1 JSON document' })
          .option('output', { alias: 'o', type: 'string', describe: 'write the JSON document to this file' })
          .option('fail-on', { choices: ['never', 'info', 'warning', 'error'], default: 'never', describe: 'exit 1 when a finding reaches this severity' })
          .option('anonymize', { type: 'string', describe: 'map IP addresses consistently (prefix-preserving) with this key' }),
      async (args) => {
        const report = finalize(
          await withCapture(args as unknown as CommonArgs, (source, options) => analyze(source, options)),
          args.anonymize,
        );
        warnCaptureProblems(report.capture, args.quiet);
        const json = `${JSON.stringify(report, null, 2)}\n`;
        if (args.output !== undefined) writeOut(args.output, json);
        if (args.json || args.output === undefined) {
          if (args.json) process.stdout.write(json);
          else process.stdout.write(renderSummary(report, { color: Boolean(process.stdout.isTTY) }));
        }
        exitCode = exitCodeFor(report, args['fail-on']);
      },
    )
    .command(
      ['report <capture>', '$0 <capture>'],
      'write the self-contained HTML report and print a summary',
      (y) =>
        captureArg(y)
          .option('output', { alias: 'o', type: 'string', default: 'tcpmortem-report.html', describe: 'HTML file to write' })
          .option('json', { type: 'string', describe: 'also write the tcpmortem/1 JSON document to this file' })
          .option('fail-on', { choices: ['never', 'info', 'warning', 'error'], default: 'never' })
          .option('anonymize', { type: 'string', describe: 'map IP addresses consistently (prefix-preserving) with this key' }),
      async (args) => {
        const report = finalize(
          await withCapture(args as unknown as CommonArgs, (source, options) => analyze(source, options)),
          args.anonymize,
        );
        warnCaptureProblems(report.capture, args.quiet);
        writeFileSync(args.output, renderHtml(report));
        if (args.json !== undefined) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
        process.stdout.write(renderSummary(report, { color: Boolean(process.stdout.isTTY), reportPath: args.output }));
        exitCode = exitCodeFor(report, args['fail-on']);
      },
    )
    .command(
      'summary <capture>',
      'short terminal summary of the findings',
      (y) => captureArg(y).option('fail-on', { choices: ['never', 'info', 'warning', 'error'], default: 'never' }),
      async (args) => {
        const report = await withCapture(args as unknown as CommonArgs, (source, options) => analyze(source, options));
        warnCaptureProblems(report.capture, args.quiet);
        process.stdout.write(renderSummary(report, { color: Boolean(process.stdout.isTTY) }));
        exitCode = exitCodeFor(report, args['fail-on']);
      },
    )
    .command(
      'render <result>',
      're-render a saved tcpmortem/1 JSON result as HTML',
      (y) =>
        y
          .positional('result', { type: 'string', demandOption: true, describe: 'JSON written by analyze --json / -o' })
          .option('output', { alias: 'o', type: 'string', default: 'tcpmortem-report.html' }),
      (args) => {
        let report: AnalysisReport;
        try {
          report = JSON.parse(readFileSync(args.result, 'utf8')) as AnalysisReport;
        } catch (err) {
          throw new UsageError(`${args.result}: ${(err as Error).message}`);
        }
        if (report.schema !== SCHEMA) throw new UsageError(`${args.result}: not a ${SCHEMA} document (schema: ${String(report.schema)})`);
        writeFileSync(args.output, renderHtml(report));
        process.stdout.write(`report written to ${args.output}\n`);
      },
    )
    .command(
      'flows <capture>',
      'list connections with both endpoints\' final states',
      (y) =>
        captureArg(y)
          .option('state', { type: 'string', describe: 'only flows where a side ended in this state (e.g. CLOSE_WAIT)' })
          .option('port', { type: 'number', describe: 'only flows with this port on either side' })
          .option('host', { type: 'string', describe: 'only flows with this address on either side' })
          .option('format', { choices: ['table', 'ndjson', 'csv'], default: 'table' }),
      async (args) => {
        const report = await withCapture(args as unknown as CommonArgs, (source, options) => analyze(source, options));
        warnCaptureProblems(report.capture, args.quiet);
        const flows = filterFlows(report.flows, {
          ...(args.state !== undefined ? { state: args.state.toUpperCase() as TcpState } : {}),
          ...(args.port !== undefined ? { port: args.port } : {}),
          ...(args.host !== undefined ? { host: args.host } : {}),
        });
        const text = args.format === 'csv' ? formatFlowsCsv(flows) : args.format === 'ndjson' ? formatFlowsNdjson(flows) : formatFlowsTable(flows);
        process.stdout.write(text);
      },
    )
    .command(
      'netstat <capture>',
      'what netstat / ss would have shown on each host at a moment of the capture',
      (y) => captureArg(y).option('at', { type: 'string', describe: 'ISO time, seconds from the start (12.5s), or "end" (default)' }),
      async (args) => {
        const report = await withCapture(args as unknown as CommonArgs, (source, options) => analyze(source, options));
        warnCaptureProblems(report.capture, args.quiet);
        process.stdout.write(formatNetstat(netstatAt(report.flows, parseAt(args.at, report)), report));
      },
    )
    .demandCommand(1, 'name a command or a capture file')
    .epilogue('Exit codes: 0 ok; 1 a finding at or above --fail-on; 2 usage error or unusable input; 130 interrupted with --no-partial.')
    .help();

  try {
    await parser.parseAsync();
    return exitCode;
  } catch (err) {
    if (err instanceof CaptureFormatError) {
      process.stderr.write(`tcpmortem: ${currentFile}: ${err.message} (at byte ${err.byteOffset})\n`);
    } else if (err instanceof UsageError) {
      process.stderr.write(`tcpmortem: ${err.message}\n`);
    } else {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`tcpmortem: ${message}\n`);
      if (process.env['TCPMORTEM_DEBUG'] !== undefined && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    }
    return 2;
  }
}
