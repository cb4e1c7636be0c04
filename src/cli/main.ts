/**
 * The command line: parse arguments, build options, call the core, write outputs, return the exit
 * code. All I/O of the product lives here (files, stdin, stdout, stderr, signals, TTY detection).
 *
 * Exit codes: 0 success (no finding at or above --fail-on); 1 a finding at or above --fail-on;
 * 2 usage error or unusable input (not a capture, unreadable file); 130 interrupted with
 * --no-partial; 141 standard output closed by its reader (see entry.ts).
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { analyze, diagnoseForReport, inspectCapture } from '../analyze.ts';
import { DiagnosisThread } from '../parallel/diagnose-thread.ts';
import type { AnalyzeOptions } from '../analyze.ts';
import { CaptureFormatError } from '../capture/types.ts';
import type { AnalysisReport, CaptureFacts } from '../report/model.ts';
import { SCHEMA } from '../report/model.ts';
import { prepareRenderer, renderHtml, renderSummary, anonymizeReport, batchChunks, readResult, reportJsonDocument, ResultFormatError } from '../report/index.ts';
import { DEFAULT_SUMMARY_FINDINGS } from '../report/render-summary.ts';
import { FlowFilterError, matchingFlows, netstatAt, parseFlowFilter } from '../query/index.ts';
import type { FlowFilter } from '../query/index.ts';
import { scanFlows } from '../tcp/flow-summary.ts';
import { packetSeconds } from '../tcp/packet-seconds.ts';
import { parseIsoTimestamp } from '../common/time.ts';
import type { Severity } from '../diagnose/types.ts';
import { formatAuditSummary, formatFlowsTable, formatFlowsCsv, formatFlowsNdjson, formatInfo, formatNetstat } from './format.ts';
import type { AuditRow } from './format.ts';
import { ProgressBar } from './progress.ts';
import { writeToFile, writeToPath, writeToStdout } from './output.ts';
import { AuditJsonWriter } from './audit-json.ts';
import type { AuditEntry } from './audit-json.ts';
import { readFileChunks } from './file-source.ts';
import { VERSION } from '../version.ts';

export { AUDIT_SCHEMA } from './audit-json.ts';

/** Usage error: printed as one line, exit 2. */
class UsageError extends Error {}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

interface CommonArgs {
  capture: string;
  quiet: boolean;
  partial: boolean;
  jobs?: number | undefined;
}

/**
 * Captures at least this large (or of unknown size: stdin) are analysed with one flow-tracking
 * thread per core by default; smaller ones on one thread, where starting workers costs more than
 * it saves. The result is the same either way.
 */
const PARALLEL_FROM_BYTES = 32 * 1024 * 1024;

/** Most worker threads `--jobs` starts (each has its own heap): a larger value means this many. */
const MAX_JOBS = 64;

/**
 * Worker threads for flow tracking: `--jobs` (0: the number of cores, as `xz -T0`), else by size
 * (see PARALLEL_FROM_BYTES).
 */
function jobsFor(requested: number | undefined, size: number | undefined): number {
  if (requested === 0) return Math.max(1, Math.min(MAX_JOBS, availableParallelism()));
  if (requested !== undefined) return Math.min(MAX_JOBS, requested);
  if (size !== undefined && size < PARALLEL_FROM_BYTES) return 1;
  return Math.max(1, availableParallelism());
}

/**
 * yargs through its CommonJS build: the ESM build's cliui wraps help text at the column, in the
 * middle of words ("anomalie" / "s (like capinfos)"); the CommonJS one wraps between words
 * (wrap-ansi). Same API and version.
 */
const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;

/**
 * yargs turns a lone `-` into an empty string, so `-` (stdin) is swapped for this token before
 * parsing and back when opening the source.
 */
const STDIN_TOKEN = '\u0000stdin';

/** The capture currently being read, for one-line error messages. */
let currentFile = '';

/**
 * An open capture: its chunks, how to let go of it (ends a pending read, closes the file), and
 * its size when it is a regular file.
 */
interface CaptureSource {
  readonly chunks: AsyncIterator<Uint8Array>;
  readonly close: () => void;
  readonly size: number | undefined;
}

/**
 * `-` with a terminal as standard input: nothing would come but what is typed, so the run would
 * wait silently (as gzip refuses to read compressed data from a terminal, we say so instead).
 */
const STDIN_IS_TERMINAL = '-: standard input is a terminal; pipe the capture in (tcpdump -w - | tcpmortem report -, or tcpmortem report - < FILE)';
const STDIN_IS_TERMINAL_RESULT = '-: standard input is a terminal; pipe the result in (tcpmortem analyze CAPTURE --json | tcpmortem render -, or tcpmortem render - < FILE)';

/** What a failed open or read of a file says after its name: short words for the usual errors. */
function fileErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return String((err as Error).message);
}

/**
 * Opens a capture path (or, for render, a result) or `-` (stdin) as chunks of bytes; the size is
 * known for regular files. `terminalText`: what to say when `-` is a terminal.
 */
function openSource(path: string, terminalText: string = STDIN_IS_TERMINAL): CaptureSource {
  if (path === STDIN_TOKEN) path = '-';
  currentFile = path;
  if (path === '-') {
    if (process.stdin.isTTY === true) throw new UsageError(terminalText);
    const stdin: Readable = process.stdin;
    return { chunks: stdin[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>, close: () => stdin.destroy(), size: undefined };
  }
  let size: number | undefined;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new UsageError(`${path}: is a directory`);
    size = st.isFile() ? st.size : undefined;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${path}: ${fileErrorText(err)}`);
  }
  const file = readFileChunks(path);
  // Returning the generator early runs its cleanup (after a read in flight) and closes the file.
  return { chunks: file, close: () => void file.return(undefined).catch(() => undefined), size };
}

/**
 * A saved `tcpmortem/1` result from a path or `-` (stdin), read with `readResult` (any size: its
 * flows stay compressed until the report reads them). Failures are one-line usage errors naming
 * the input: unreadable, or not a JSON object (with the byte offset).
 */
async function loadResult(name: string): Promise<AnalysisReport> {
  const { chunks } = openSource(name, STDIN_IS_TERMINAL_RESULT);
  // readResult reads to the end, or returns the iterator early (closing the file) when it throws.
  return readResult({ [Symbol.asyncIterator]: () => chunks });
}

/**
 * The chunks of `source` until it ends or `onStop`'s callback is called, whichever comes first;
 * then the source is closed. Destroying a stream while it is being iterated makes the iterator
 * throw "Premature close"; ending the generator instead lets the reader finish cleanly on what it
 * has (a record cut by the stop is its usual truncated-final-record warning).
 */
async function* readUntil(source: CaptureSource, onStop: (stop: () => void) => void): AsyncGenerator<Uint8Array> {
  const iterator = source.chunks;
  let stopped = false;
  let wake: ((next: IteratorResult<Uint8Array> | undefined) => void) | undefined;
  onStop(() => {
    stopped = true;
    wake?.(undefined);
  });
  try {
    while (!stopped) {
      // A fresh promise per chunk, settled by the stream or by the stop: racing every chunk
      // against one long-lived stop promise would pile a reaction per chunk onto it (quadratic
      // time on a 4 GiB pipe). The pending next() that loses to a stop settles this promise
      // again, which is ignored, so its "Premature close" after destroy() is handled.
      const next = await new Promise<IteratorResult<Uint8Array> | undefined>((resolve, reject) => {
        wake = resolve;
        iterator.next().then(resolve, reject);
      });
      wake = undefined;
      if (next === undefined || next.done === true) return;
      yield next.value;
    }
  } finally {
    source.close();
  }
}

/**
 * Ctrl-C for a whole run (one capture or an audit of several): the first SIGINT stops reading the
 * current capture, whose result is then finished and marked partial, and no further capture is
 * started; with --no-partial, or on a second SIGINT, the process exits 130 at once.
 */
class Interruption {
  interrupted = false;
  private stopCurrent: (() => void) | undefined;
  private readonly onSigint = (): void => {
    if (this.interrupted || !this.partial) {
      process.stderr.write('\ntcpmortem: interrupted\n');
      process.exit(130);
    }
    this.interrupted = true;
    process.stderr.write('\ntcpmortem: interrupted: finishing with what was read so far (Ctrl-C again to quit)\n');
    this.stopCurrent?.();
  };

  constructor(private readonly partial: boolean) {
    process.on('SIGINT', this.onSigint);
  }

  /** Registers how to stop reading the current capture (called at once if already interrupted). */
  onStop(stop: () => void): void {
    if (this.interrupted) stop();
    else this.stopCurrent = stop;
  }

  dispose(): void {
    process.off('SIGINT', this.onSigint);
  }
}

/** Runs `work` over one capture with a progress bar on a TTY, under the run's Ctrl-C handling. */
async function withCapture<T>(
  path: string,
  args: Pick<CommonArgs, 'quiet' | 'jobs'>,
  interruption: Interruption,
  work: (source: AsyncIterable<Uint8Array>, options: AnalyzeOptions) => Promise<T>,
): Promise<T> {
  const source = openSource(path);
  const size = source.size;
  const progress = !args.quiet && process.stderr.isTTY ? new ProgressBar(process.stderr, size) : undefined;
  try {
    return await work(readUntil(source, (stop) => interruption.onStop(stop)), {
      file: currentFile,
      jobs: jobsFor(args.jobs, size),
      ...(progress !== undefined ? { onProgress: (offset: number, records: number) => progress.update(offset, records) } : {}),
      interrupted: () => interruption.interrupted,
    });
  } finally {
    source.close();
    progress?.done();
  }
}

/** {@link withCapture} for the single-capture commands: installs and removes the Ctrl-C handling. */
async function withOneCapture<T>(
  args: CommonArgs,
  work: (source: AsyncIterable<Uint8Array>, options: AnalyzeOptions) => Promise<T>,
): Promise<T> {
  const interruption = new Interruption(args.partial);
  try {
    return await withCapture(args.capture, args, interruption, work);
  } finally {
    interruption.dispose();
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

/** File names a directory argument stands for: captures, optionally gzip-compressed. */
const CAPTURE_FILE_NAME = /\.(pcapng|pcap|cap)(\.gz)?$/i;

/** One capture of an audit, or a command-line argument that could not be expanded. */
interface AuditInput {
  readonly path: string;
  /** Set when the argument is unusable before reading (a directory that cannot be listed). */
  readonly error?: string;
}

/**
 * Expands the capture arguments: a directory stands for every capture file directly inside it
 * (`*.pcap`, `*.pcapng`, `*.cap`, each optionally `.gz`), sorted by name in code-unit order so the
 * audit order does not depend on the locale. Not recursive: an incident folder often holds
 * sub-folders of unrelated material, and `find ... | xargs tcpmortem analyze` recurses on demand.
 * An audit is any run with several arguments or a directory.
 */
function expandCaptures(args: readonly string[]): { inputs: AuditInput[]; audit: boolean } {
  const inputs: AuditInput[] = [];
  let audit = args.length > 1;
  for (const arg of args) {
    let isDirectory = false;
    try {
      isDirectory = arg !== STDIN_TOKEN && statSync(arg).isDirectory();
    } catch {
      // Missing or unreadable: reported when the capture is opened.
    }
    if (!isDirectory) {
      inputs.push({ path: arg });
      continue;
    }
    audit = true;
    let names: string[];
    try {
      names = readdirSync(arg).filter((n) => CAPTURE_FILE_NAME.test(n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch (err) {
      inputs.push({ path: arg, error: `${arg}: ${(err as Error).message}` });
      continue;
    }
    if (names.length === 0) inputs.push({ path: arg, error: `${arg}: no capture files (*.pcap, *.pcapng, *.cap, optionally .gz) in this directory` });
    for (const name of names) inputs.push({ path: join(arg, name) });
  }
  return { inputs, audit };
}

/**
 * Output base names for an audit's captures: the file name without its capture extension
 * (`-` is `stdin`); a name already taken gets `-2`, `-3`, ... in argument order.
 */
function outputNames(inputs: readonly AuditInput[]): string[] {
  const used = new Set<string>();
  return inputs.map((input) => {
    const base = input.path === STDIN_TOKEN ? 'stdin' : basename(input.path).replace(CAPTURE_FILE_NAME, '') || 'capture';
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return name;
  });
}

/** Creates the output directory of an audit; a usage error when the path is a file. */
function ensureDirectory(path: string, option: string): void {
  if (path === '-') throw new UsageError(`${option} names a directory when several captures are given`);
  try {
    mkdirSync(path, { recursive: true });
  } catch (err) {
    throw new UsageError(`${option} ${path}: ${(err as NodeJS.ErrnoException).code === 'EEXIST' ? 'not a directory' : (err as Error).message}`);
  }
}

/**
 * Checks, before a long analysis, that `path` (a file to write; `-` is standard output) can be
 * created: not a directory, in a directory that exists. Otherwise the analysis ran to its end
 * and then failed on Node's "ENOENT: no such file or directory, open ...".
 */
function checkOutputFile(path: string, option: string, example: string): void {
  if (path === '-') return;
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // Not there yet: its directory is checked below.
  }
  if (isDirectory) throw new UsageError(`${option} ${path}: is a directory (name a file, such as ${join(path, example)})`);
  const dir = dirname(resolve(path));
  let dirIsDirectory = false;
  try {
    dirIsDirectory = statSync(dir).isDirectory();
  } catch {
    // Missing: said below.
  }
  if (!dirIsDirectory) throw new UsageError(`${option} ${path}: no such directory: ${dir}`);
}

/** The one-line message (without the `tcpmortem: ` prefix) for an error that ends a capture. */
function errorLine(err: unknown, file: string): string {
  if (err instanceof CaptureFormatError) return `${file}: ${err.message} (at byte ${err.byteOffset})`;
  if (err instanceof UsageError) return err.message;
  return `${file}: ${err instanceof Error ? err.message : String(err)}`;
}

function displayName(path: string): string {
  return path === STDIN_TOKEN ? '-' : path;
}

/**
 * Analyses the captures of an audit one after the other (so memory holds one result at a time):
 * each gets its own result, handed to `onEntry` with its output base name as soon as it is ready;
 * the next capture starts once the promise `onEntry` may return has settled.
 * An unusable capture gets its one-line error on stderr and does not stop the others; after
 * Ctrl-C the capture being read is finished as partial and the rest are `not_read`.
 * Exit code: 2 when a capture is unusable, else the worst `--fail-on` outcome.
 */
async function runAudit(
  inputs: readonly AuditInput[],
  args: Pick<CommonArgs, 'quiet' | 'partial' | 'jobs'> & { readonly 'fail-on': string; readonly anonymize?: string | undefined },
  onEntry: (entry: AuditEntry, name: string) => void | Promise<void>,
): Promise<{ rows: AuditRow[]; exitCode: number }> {
  const names = outputNames(inputs);
  const rows: AuditRow[] = [];
  let exitCode = 0;
  const interruption = new Interruption(args.partial);
  try {
    for (const [i, input] of inputs.entries()) {
      const file = displayName(input.path);
      const name = names[i] ?? 'capture';
      if (interruption.interrupted) {
        rows.push({ file, status: 'not_read', error: 'interrupted before this capture' });
        await onEntry({ file, status: 'not_read', error: 'interrupted before this capture' }, name);
        continue;
      }
      let report: AnalysisReport;
      try {
        if (input.error !== undefined) throw new UsageError(input.error);
        report = finalize(await withCapture(input.path, args, interruption, (source, options) => analyze(source, options)), args.anonymize);
      } catch (err) {
        const line = errorLine(err, file);
        process.stderr.write(`tcpmortem: ${line}\n`);
        rows.push({ file, status: 'unusable', error: line });
        await onEntry({ file, status: 'unusable', error: line }, name);
        exitCode = 2;
        continue;
      }
      warnCaptureProblems(report.capture, args.quiet);
      const findings = { error: 0, warning: 0, info: 0 };
      for (const f of report.findings) findings[f.severity]++;
      rows.push({ file, status: 'ok', packets: report.capture.packets, connections: report.flows.length, findings, partial: report.capture.partial });
      if (exitCode !== 2) exitCode = Math.max(exitCode, exitCodeFor(report, args['fail-on']));
      await onEntry({ file, status: 'ok', report }, name);
    }
  } finally {
    interruption.dispose();
  }
  return { rows, exitCode };
}

/** A `--at` value read before the capture: its end, seconds from its start, or a time (epoch seconds). */
type AtTime = { readonly kind: 'end' } | { readonly kind: 'offset'; readonly seconds: number } | { readonly kind: 'time'; readonly seconds: number };

/** Reads `--at` (checked before the capture is opened, so a typo costs no read). */
function parseAt(at: string | undefined): AtTime {
  if (at === undefined || at === 'end') return { kind: 'end' };
  if (/^[+]?\d+(\.\d+)?s?$/.test(at)) return { kind: 'offset', seconds: Number.parseFloat(at.replace(/[+s]/g, '')) };
  // ISO 8601 with a date and a time; without a zone it is UTC, as every time tcpmortem prints (so
  // the same command gives the same answer on any machine). Fractions finer than a millisecond
  // are kept (Date.parse would drop them).
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?$/i.exec(at.trim());
  const ms = m === null ? Number.NaN : Date.parse(`${m[1]!}T${m[2]!}${(m[4] ?? 'Z').toUpperCase()}`);
  if (m === null || Number.isNaN(ms)) {
    throw new UsageError(`--at ${at}: not a time (use ISO 8601 such as 2024-05-01T10:00:00Z, "end", or seconds from the start like 12.5s)`);
  }
  return { kind: 'time', seconds: ms / 1000 + (m[3] === undefined ? 0 : Number(m[3])) };
}

/**
 * The packet time (epoch seconds) `at` stands for in this capture; a time outside it is a usage
 * error (nothing is known of the sockets then), said with the capture's span. "end" (the default)
 * costs a scan of the flows.
 */
function resolveAt(at: AtTime, text: string | undefined, report: AnalysisReport): number {
  // The last packet, or a later flow end when the capture's timestamps went backwards. A loop,
  // not Math.max(...spread): spreading every flow into arguments throws past ~120k flows.
  const firstTs = report.capture.firstTs === null ? undefined : parseIsoTimestamp(report.capture.firstTs);
  const lastTs = report.capture.lastTs === null ? undefined : parseIsoTimestamp(report.capture.lastTs);
  const first = firstTs === undefined ? 0 : packetSeconds(firstTs.sec, firstTs.nanos);
  let end = lastTs === undefined ? 0 : packetSeconds(lastTs.sec, lastTs.nanos);
  scanFlows(report.flows, (f) => {
    if (f.endSeconds > end) end = f.endSeconds;
  });
  if (at.kind === 'end') return end;
  const t = at.kind === 'offset' ? first + at.seconds : at.seconds;
  if (report.capture.firstTs !== null && (t < first || t > end)) {
    throw new UsageError(`--at ${text ?? ''}: outside the capture, which runs from ${report.capture.firstTs} to ${report.capture.lastTs ?? report.capture.firstTs} (${(end - first).toFixed(3)} s)`);
  }
  return t;
}

const captureOptions = (y: Argv) =>
  y
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress bar, no warnings on stderr' })
    .option('partial', { type: 'boolean', default: true, describe: 'on Ctrl-C, finish with what was read (--no-partial: exit 130)' })
    .option('jobs', {
      alias: 'j',
      type: 'number',
      describe: `threads: flow tracking on N workers, and for report the diagnosis beside the report pass (0: one per core; at most ${MAX_JOBS}); the result is the same for any value`,
      defaultDescription: "the number of cores for captures over 32 MB or stdin, else 1",
      coerce: (n: number) => {
        if (!Number.isInteger(n) || n < 0) throw new UsageError('--jobs must be a whole number, 0 (one per core) or more');
        return n;
      },
    });

/** For the commands that print the terminal summary. */
const summaryOptions = <T>(y: Argv<T>) =>
  y.option('max-findings', {
    type: 'number',
    default: DEFAULT_SUMMARY_FINDINGS,
    describe: 'findings the terminal summary lists in full (the rest are counted by kind)',
    coerce: (n: number) => {
      if (!(n >= 0)) throw new UsageError("--max-findings must be a number, 0 or more");
      return n;
    },
  });

/** For the commands that take several captures (an audit); a directory stands for the captures in it. */
const capturesArg = (y: Argv) =>
  captureOptions(
    y.positional('captures', {
      type: 'string',
      array: true,
      demandOption: true,
      describe: 'pcap/pcapng files (optionally gzip-compressed), - for stdin, or directories (every *.pcap, *.pcapng, *.cap[.gz] directly inside)',
    }),
  ) as unknown as Argv<{ captures: string[]; quiet: boolean; partial: boolean; jobs: number | undefined }>;

const captureArg = (y: Argv) =>
  captureOptions(y.positional('capture', { type: 'string', describe: 'pcap/pcapng file (optionally gzip-compressed), or - for stdin', demandOption: true })) as unknown as Argv<{
    capture: string;
    quiet: boolean;
    partial: boolean;
    jobs: number | undefined;
  }>;

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
      // Every command's positional is what it reads: say so instead of yargs' "non-option arguments".
      if (err === undefined && msg.startsWith('Not enough non-option arguments')) {
        throw new UsageError('missing what to read: a capture file, or - for standard input (render: a JSON result); see --help');
      }
      throw err ?? new UsageError(msg);
    })
    .command(
      'info <capture>',
      'capture facts: format, interfaces, packets, times, drops, anomalies (like capinfos)',
      (y) => captureArg(y).option('json', { type: 'boolean', default: false, describe: 'machine-readable JSON' }),
      async (args) => {
        const facts = await withOneCapture(args as unknown as CommonArgs, (source, options) => inspectCapture(source, options));
        warnCaptureProblems(facts, args.quiet);
        process.stdout.write(args.json ? `${JSON.stringify({ schema: SCHEMA, capture: facts }, null, 2)}\n` : formatInfo(facts));
      },
    )
    .command(
      'analyze <captures..>',
      'full analysis: flows, both endpoints\' states, findings (JSON with --json); several captures or a directory: an audit, each its own result plus a combined summary',
      (y) =>
        summaryOptions(capturesArg(y))
          .option('json', { type: 'boolean', default: false, describe: 'print the tcpmortem/1 JSON document (several captures: one tcpmortem/1-audit document)' })
          .option('output', { alias: 'o', type: 'string', describe: 'write the JSON document to this file (several captures: a directory, one <name>.json each)' })
          .option('fail-on', { choices: ['never', 'info', 'warning', 'error'], default: 'never', describe: 'exit 1 when a finding reaches this severity (several captures: in any of them)' })
          .option('anonymize', { type: 'string', describe: 'map IP addresses consistently (prefix-preserving) with this key' }),
      async (args) => {
        const { inputs, audit } = expandCaptures(args.captures.map(String));
        if (!audit) {
          if (args.output !== undefined) checkOutputFile(displayName(args.output), '-o', 'result.json');
          const report = finalize(
            await withOneCapture({ ...args, capture: inputs[0]?.path ?? '' }, (source, options) => analyze(source, options)),
            args.anonymize,
          );
          warnCaptureProblems(report.capture, args.quiet);
          // Each JSON output is its own streamed pass over the flows.
          // `-o -` is stdout (yargs hands `-` over as STDIN_TOKEN, see there).
          if (args.output !== undefined) await writeToPath(displayName(args.output), reportJsonDocument(report));
          if (args.json) await writeToStdout(reportJsonDocument(report));
          else if (args.output === undefined) process.stdout.write(renderSummary(report, { color: Boolean(process.stdout.isTTY), maxFindings: args['max-findings'] }));
          exitCode = exitCodeFor(report, args['fail-on']);
          return;
        }
        const dir = args.output;
        if (dir !== undefined) ensureDirectory(dir, '-o');
        const jsonOut = args.json ? new AuditJsonWriter() : undefined;
        const { rows, exitCode: code } = await runAudit(inputs, args, async (entry, name) => {
          if (dir !== undefined && entry.status === 'ok') await writeToFile(join(dir, `${name}.json`), reportJsonDocument(entry.report));
          await jsonOut?.entry(entry);
        });
        if (jsonOut !== undefined) jsonOut.end(rows);
        else process.stdout.write(formatAuditSummary(rows) + (dir !== undefined ? `Results written to ${dir}\n` : ''));
        exitCode = code;
      },
    )
    .command(
      ['report <captures..>', '$0 <captures..>'],
      'write the self-contained HTML report and print a summary; several captures or a directory: one report each in the -o directory',
      (y) =>
        summaryOptions(capturesArg(y))
          .option('output', { alias: 'o', type: 'string', describe: 'HTML file to write (several captures: a directory, one <name>.html each)', defaultDescription: 'tcpmortem-report.html; several captures: tcpmortem-reports' })
          .option('json', { type: 'string', describe: 'also write the tcpmortem/1 JSON document to this file (several captures: a directory)' })
          .option('fail-on', { choices: ['never', 'info', 'warning', 'error'], default: 'never' })
          .option('anonymize', { type: 'string', describe: 'map IP addresses consistently (prefix-preserving) with this key' }),
      async (args) => {
        const { inputs, audit } = expandCaptures(args.captures.map(String));
        if (!audit) {
          const output = displayName(args.output ?? 'tcpmortem-report.html');
          const json = args.json === undefined ? undefined : displayName(args.json);
          if (json === '-' && output === '-') throw new UsageError('-o - and --json - cannot both write to standard output');
          checkOutputFile(output, '-o', 'report.html');
          if (json !== undefined) checkOutputFile(json, '--json', 'result.json');
          // With several jobs the diagnosis runs on a second core beside the report's pass over the
          // flows (see diagnoseForReport); an anonymised report is mapped first, so it does not.
          const { report: analyzed, viewPass } = await withOneCapture({ ...args, capture: inputs[0]?.path ?? '' }, async (source, options) => {
            if (args.anonymize !== undefined) return { report: await analyze(source, options), viewPass: undefined };
            const jobs = options.jobs ?? 1;
            // Started now, so that loading it overlaps the analysis.
            const thread = jobs > 1 ? new DiagnosisThread() : undefined;
            try {
              // Shared memory with several jobs: the diagnosis then reads the flows from a second thread.
              const bare = await analyze(source, { ...options, skipDiagnosis: true, sharedMemory: jobs > 1 });
              return await diagnoseForReport(bare, { jobs, whileWaiting: prepareRenderer, ...(thread === undefined ? {} : { thread }) });
            } catch (error) {
              thread?.close();
              throw error;
            }
          });
          const report = finalize(analyzed, args.anonymize);
          warnCaptureProblems(report.capture, args.quiet);
          if (json !== undefined) await writeToPath(json, reportJsonDocument(report));
          if (output === '-') {
            // The HTML goes to stdout, so the summary goes to stderr (and not at all with --quiet).
            await writeToStdout([renderHtml(report, {}, viewPass)]);
            if (args.quiet !== true) process.stderr.write(renderSummary(report, { color: Boolean(process.stderr.isTTY), reportPath: 'standard output', maxFindings: args['max-findings'] }));
          } else {
            writeFileSync(output, renderHtml(report, {}, viewPass));
            process.stdout.write(renderSummary(report, { color: Boolean(process.stdout.isTTY), reportPath: output, maxFindings: args['max-findings'] }));
          }
          exitCode = exitCodeFor(report, args['fail-on']);
          return;
        }
        const dir = args.output ?? 'tcpmortem-reports';
        ensureDirectory(dir, '-o');
        if (args.json !== undefined) ensureDirectory(args.json, '--json');
        const jsonDir = args.json;
        const { rows, exitCode: code } = await runAudit(inputs, args, async (entry, name) => {
          if (entry.status !== 'ok') return;
          writeFileSync(join(dir, `${name}.html`), renderHtml(entry.report));
          if (jsonDir !== undefined) await writeToFile(join(jsonDir, `${name}.json`), reportJsonDocument(entry.report));
        });
        process.stdout.write(`${formatAuditSummary(rows)}Reports written to ${dir}\n`);
        exitCode = code;
      },
    )
    .command(
      'summary <capture>',
      'short terminal summary of the findings',
      (y) => summaryOptions(captureArg(y)).option('fail-on', { choices: ['never', 'info', 'warning', 'error'], default: 'never' }),
      async (args) => {
        const report = await withOneCapture(args as unknown as CommonArgs, (source, options) => analyze(source, options));
        warnCaptureProblems(report.capture, args.quiet);
        process.stdout.write(renderSummary(report, { color: Boolean(process.stdout.isTTY), maxFindings: args['max-findings'] }));
        exitCode = exitCodeFor(report, args['fail-on']);
      },
    )
    .command(
      'render <result>',
      're-render a saved tcpmortem/1 JSON result as HTML',
      (y) =>
        y
          .positional('result', { type: 'string', demandOption: true, describe: 'JSON written by analyze --json / -o, or - for standard input' })
          .option('output', { alias: 'o', type: 'string', default: 'tcpmortem-report.html', describe: 'HTML file to write (- for standard output)' })
          // As on every other command, so a script can pass -q to all of them.
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no message on stdout' }),
      async (args) => {
        const name = displayName(args.result);
        checkOutputFile(displayName(args.output), '-o', 'report.html');
        const report = await loadResult(name);
        if (report.schema !== SCHEMA) throw new UsageError(`${name}: not a ${SCHEMA} document (schema: ${String(report.schema)})`);
        for (const [member, isArray] of [['capture', false], ['findings', true]] as const) {
          const value: unknown = (report as unknown as Record<string, unknown>)[member];
          if (isArray ? !Array.isArray(value) : typeof value !== 'object' || value === null || Array.isArray(value)) {
            throw new UsageError(`${name}: not a ${SCHEMA} result: it has no "${member}" ${isArray ? 'array' : 'object'}`);
          }
        }
        const output = displayName(args.output);
        if (output === '-') {
          await writeToStdout([renderHtml(report)]);
        } else {
          writeFileSync(output, renderHtml(report));
          if (!args.quiet) process.stdout.write(`Report written to ${output}\n`);
        }
      },
    )
    .command(
      'flows <capture>',
      'list connections with both endpoints\' final states',
      (y) =>
        captureArg(y)
          .option('state', { type: 'string', describe: 'only flows where a side ended in this state (e.g. CLOSE_WAIT, close-wait)' })
          .option('conn-state', { type: 'string', describe: "only flows with this Zeek conn_state (e.g. REJ, S0)" })
          .option('port', { type: 'string', describe: 'only flows with this port on either side' })
          .option('host', { type: 'string', describe: 'only flows with this address on either side (IPv4 or IPv6, any form)' })
          .option('vlan', { type: 'string', describe: 'only flows on this VLAN (42; 10/20 for two tags; none for untagged)' })
          .option('format', { choices: ['table', 'ndjson', 'csv'], default: 'table' }),
      async (args) => {
        // Checked before the capture is read: a typo is an error, not an empty list after a long read.
        let filter: FlowFilter;
        try {
          filter = parseFlowFilter({ state: args.state, connState: args['conn-state'], port: args.port, host: args.host, vlan: args.vlan });
        } catch (err) {
          if (err instanceof FlowFilterError) throw new UsageError(err.message);
          throw err;
        }
        // Flows and states only: the detectors' findings are not shown, so they do not run.
        const report = await withOneCapture(args as unknown as CommonArgs, (source, options) => analyze(source, { ...options, skipDiagnosis: true }));
        warnCaptureProblems(report.capture, args.quiet);
        // Streamed: rows are written as the flows are read, never collected (the table reads
        // the matches twice, to size its columns first; see formatFlowsTable).
        const flows = matchingFlows(report.flows, filter);
        const lines = args.format === 'csv' ? formatFlowsCsv(flows) : args.format === 'ndjson' ? formatFlowsNdjson(flows) : formatFlowsTable(flows);
        await writeToStdout(batchChunks(lines));
      },
    )
    .command(
      'netstat <capture>',
      'what netstat / ss would have shown on each host at a moment of the capture',
      (y) => captureArg(y).option('at', { type: 'string', describe: 'ISO 8601 time (UTC unless it names a zone), seconds from the start (12.5s), or "end" (default)' }),
      async (args) => {
        const at = parseAt(args.at);
        // States only: the detectors' findings are not shown, so they do not run.
        const report = await withOneCapture(args as unknown as CommonArgs, (source, options) => analyze(source, { ...options, skipDiagnosis: true }));
        warnCaptureProblems(report.capture, args.quiet);
        process.stdout.write(formatNetstat(netstatAt(report.flows, resolveAt(at, args.at, report)), report));
      },
    )
    .demandCommand(1, 'name a command or a capture file')
    .epilogue('Exit codes: 0 ok; 1 a finding at or above --fail-on; 2 usage error or unusable input; 130 interrupted with --no-partial; 141 standard output closed early (| head).')
    .help();

  try {
    await parser.parseAsync();
    return exitCode;
  } catch (err) {
    if (err instanceof CaptureFormatError || err instanceof ResultFormatError) {
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
