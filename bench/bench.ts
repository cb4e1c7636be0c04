/**
 * `npm run bench`: throughput and peak memory of tcpmortem beside the tools a user would pick
 * instead, on the same capture in the same run, reported as ratios.
 *
 * 1. Makes (once, cached under bench/data/) a capture of realistic TCP conversations with our own
 *    writer: BENCH_PACKETS packets (default 6 000 000, ~12 per connection = 500 000 connections),
 *    128-byte snaplen.
 * 2. Times each stage in a child process under GNU time (wall seconds, peak RSS):
 *    read+decode, full analysis (flows and states), analysis + diagnosis, analysis + diagnosis + HTML.
 * 3. Times `tshark -r F -q -z conv,tcp` and `tcptrace -n F` when they are installed.
 *
 * Numbers depend on the machine; nothing here asserts a time (tests never do).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = join(here, 'data');
const packets = Number(process.env['BENCH_PACKETS'] ?? 6_000_000);
const capture = join(dataDir, `bench-${packets}.pcap`);

interface Measured {
  readonly name: string;
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly packets?: number;
  readonly ok: boolean;
  readonly note?: string;
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a command under GNU time; returns wall seconds, peak RSS and the command's stdout. */
function timed(name: string, argv: readonly string[]): Measured & { stdout: string } {
  const r = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M', ...argv], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const m = /__TIME__ ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  const ok = r.status === 0;
  return {
    name,
    seconds: m ? Number(m[1]) : Number.NaN,
    peakRssMb: m ? Number(m[2]) / 1024 : Number.NaN,
    ok,
    stdout: r.stdout ?? '',
    ...(ok ? {} : { note: `exit ${r.status}: ${(r.stderr ?? '').split('\n')[0]}` }),
  };
}

mkdirSync(dataDir, { recursive: true });
if (!existsSync(capture)) {
  console.log(`making ${capture} (${packets} packets) ...`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'make-capture.ts'), capture, String(packets)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not make the benchmark capture');
}
const sizeMb = statSync(capture).size / 1e6;
console.log(`capture: ${capture}, ${sizeMb.toFixed(0)} MB, ${packets} packets`);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n`);

// Measure what users run: the compiled code.
if (spawnSync('npm', ['run', 'build'], { stdio: 'inherit', cwd: join(here, '..') }).status !== 0) throw new Error('build failed');
const node = [process.execPath, join(here, 'run-stage.mjs')];
const results: Measured[] = [];
type Split = { analyzeSeconds?: number; diagnoseSeconds?: number; renderSeconds?: number; diagnoseAndPassSeconds?: number };
let split: Split = {};
let splitJobs2: Split = {};
// `analyze` runs on one thread; `analyze --jobs 2` shards flow tracking over two worker threads.
for (const [stage, name] of [
  ['read-decode', 'tcpmortem read-decode'],
  ['analyze', 'tcpmortem analyze'],
  ['analyze-jobs2', 'tcpmortem analyze --jobs 2'],
  ['diagnose', 'tcpmortem diagnose'],
  ['report', 'tcpmortem report'],
  ['report-jobs2', 'tcpmortem report --jobs 2'],
] as const) {
  const m = timed(name, [...node, stage, capture]);
  let stageSeconds = m.seconds;
  try {
    const parsed = JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}') as Split & { seconds?: number; packets?: number };
    if (stage === 'report') split = parsed;
    if (stage === 'report-jobs2') splitJobs2 = parsed;
    if (parsed.seconds !== undefined) stageSeconds = parsed.seconds;
    results.push({ ...m, seconds: stageSeconds, ...(parsed.packets !== undefined ? { packets: parsed.packets } : {}) });
  } catch {
    results.push(m);
  }
}
if (which('tshark')) results.push(timed('tshark -q -z conv,tcp', ['tshark', '-n', '-r', capture, '-q', '-z', 'conv,tcp']));
else results.push({ name: 'tshark -q -z conv,tcp', seconds: Number.NaN, peakRssMb: Number.NaN, ok: false, note: 'not installed' });
if (which('tcptrace')) results.push(timed('tcptrace -n', ['tcptrace', '-n', capture]));
else results.push({ name: 'tcptrace -n', seconds: Number.NaN, peakRssMb: Number.NaN, ok: false, note: 'not installed' });

const analyzeSeconds = results.find((r) => r.name === 'tcpmortem analyze')?.seconds ?? Number.NaN;
console.log('stage                      seconds   M pkt/s    MB/s  peak RSS MB   vs tcpmortem analyze');
for (const r of results) {
  const pps = packets / r.seconds / 1e6;
  const ratio = r.seconds / analyzeSeconds;
  console.log(
    `${r.name.padEnd(26)} ${r.seconds.toFixed(2).padStart(7)} ${pps.toFixed(2).padStart(9)} ${(sizeMb / r.seconds).toFixed(0).padStart(7)} ${r.peakRssMb.toFixed(0).padStart(12)}   ${
      r.ok ? `${ratio.toFixed(2)}x the time` : (r.note ?? 'failed')
    }`,
  );
}
const byName = (n: string) => results.find((r) => r.name === n);
const a = split.analyzeSeconds ?? Number.NaN;
const d = split.diagnoseSeconds ?? Number.NaN;
const rs = split.renderSeconds ?? Number.NaN;
console.log(`\nin one process: analysis ${a.toFixed(2)} s, diagnosis ${d.toFixed(2)} s, rendering ${rs.toFixed(2)} s`);
console.log(`diagnosis adds ${((d / a) * 100).toFixed(1)}% to the analysis time`);
console.log(`rendering adds ${((rs / (a + d)) * 100).toFixed(1)}% to the analysis + diagnosis time`);
// With 2 jobs the detectors run in a worker thread beside the report's pass over the flows (see
// diagnoseForReport): rendering's own work is the same, but it overlaps the diagnosis. What it
// adds is the wall time past the diagnosis alone (the single-thread figure above).
const a2 = splitJobs2.analyzeSeconds ?? Number.NaN;
const dp = splitJobs2.diagnoseAndPassSeconds ?? Number.NaN;
const r2 = splitJobs2.renderSeconds ?? Number.NaN;
console.log(`with 2 jobs (tcpmortem report's default here): analysis ${a2.toFixed(2)} s, diagnosis beside the report's pass over the flows ${dp.toFixed(2)} s, HTML ${r2.toFixed(2)} s`);
console.log(`with 2 jobs, rendering adds ${(((dp + r2 - d) / (a2 + d)) * 100).toFixed(1)}% to the analysis + diagnosis time (the diagnosis alone: ${d.toFixed(2)} s, above)`);
const reportSize = existsSync(`${capture}.html`) ? statSync(`${capture}.html`).size / 1e6 : Number.NaN;
console.log(`report size: ${reportSize.toFixed(2)} MB`);
const single = byName('tcpmortem analyze');
const jobs2 = byName('tcpmortem analyze --jobs 2');
if (single !== undefined && jobs2 !== undefined) {
  console.log(`--jobs 2: ${(single.seconds / jobs2.seconds).toFixed(2)}x the single-thread throughput`);
}
for (const ours of [single, jobs2]) {
  if (ours === undefined) continue;
  for (const peer of ['tshark -q -z conv,tcp', 'tcptrace -n']) {
    const p = byName(peer);
    if (p?.ok === true) {
      const time = p.seconds / ours.seconds;
      const memory = p.peakRssMb / ours.peakRssMb;
      console.log(
        `${peer}: takes ${time.toFixed(2)}x the time of ${ours.name} and ${memory.toFixed(2)}x its peak memory` +
          ` (tcpmortem is ${time >= 1 ? `${time.toFixed(1)}x faster` : `${(1 / time).toFixed(1)}x slower`})`,
      );
    }
  }
}

// The adversarial scale tests (issue: "peak RSS under 300 MB each, measured in the benchmark"):
// each test file run alone, in one process, under GNU time. Their captures are made on the fly by
// our writer (nothing on disk); the tests assert the same bound from inside.
console.log('\nscale tests, each file in one process (its own bound: peak RSS under 300 MB):');
for (const [file, what] of [
  ['syn-flood.test.ts', '10 M SYNs from spoofed sources'],
  ['one-long-connection.test.ts', 'one connection of 10 M segments'],
  ['large-pipe.test.ts', 'a 4.56 GB capture through a pipe'],
  ['capture-artefacts.test.ts', 'duplicates, clock steps, two interfaces'],
  ['many-long-connections.test.ts', '16,000 long connections open at once'],
] as const) {
  const m = timed(what, [process.execPath, '--import', 'tsx', join(here, '..', 'test', 'scale', file)]);
  console.log(`${what.padEnd(36)} ${m.seconds.toFixed(1).padStart(6)} s ${m.peakRssMb.toFixed(0).padStart(6)} MB peak RSS   ${m.ok ? 'pass' : (m.note ?? 'failed')}`);
}
