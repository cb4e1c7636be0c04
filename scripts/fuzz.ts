/**
 * The long fuzz run (`npm run fuzz`): the properties of test/fuzz/ with more inputs and a fresh
 * random seed each time (printed first, so any run can be repeated).
 *
 *   FUZZ_RUNS=1000000 npm run fuzz                 # inputs per target (default 200000)
 *   FUZZ_SEED=123 FUZZ_TARGET=capture npm run fuzz # repeat a run, one target only
 *
 * Targets: `capture` (reader, default limits), `capture-small` (reader with a small maxBlockBytes),
 * `decode` (decodePacket), `analyze` (the whole analysis, on FUZZ_RUNS / 50 inputs).
 *
 * On a failure fast-check shrinks the input; the minimised capture is written to
 * fixtures/regressions/fuzz-<target>-<seed>.<pcap|pcapng|bin> (a decoder input is wrapped in a
 * one-record pcap of its link type), and the command to reproduce is printed. Exit code 1.
 * Add the file to fixtures/regressions/README.md and expected.json once the bug is fixed.
 *
 * The maximum time per input is measured and printed; it is not asserted (timing is the
 * machine's business, a hang shows up as a run that does not finish).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { PcapWriter } from '../src/capture/index.ts';
import {
  buildSeeds,
  caseArb,
  checkAnalyzeInput,
  checkCaptureCase,
  checkDecodeCase,
  chunkBytes,
  decodeCaseArb,
  describeCase,
  mutate,
  type Case,
  type DecodeCase,
} from '../test/fuzz/harness.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, 'fixtures', 'regressions');
const runs = Number(process.env['FUZZ_RUNS'] ?? 200_000);
const seed = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : (Math.random() * 2 ** 31) | 0;
const only = process.env['FUZZ_TARGET'];
const seeds = buildSeeds();
const SMALL_LIMITS = [64, 100, 200, 600, 1000, 5000] as const;

console.log(`tcpmortem fuzz: seed ${seed}, ${runs} inputs per target${only !== undefined ? `, target ${only}` : ''}`);

/** Wraps timing around a check and remembers the slowest input. */
function timed<A extends unknown[], R>(fn: (...args: A) => R): { fn: (...args: A) => R; slowestMs: () => number } {
  let slowest = 0;
  return {
    fn: (...args: A): R => {
      const t = performance.now();
      const r = fn(...args);
      slowest = Math.max(slowest, performance.now() - t);
      return r;
    },
    slowestMs: () => slowest,
  };
}

function extensionOf(bytes: Uint8Array): string {
  const magic = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, false) : 0;
  if (magic === 0x0a0d0d0a) return 'pcapng';
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(magic)) return 'pcap';
  return 'bin';
}

function save(target: string, bytes: Uint8Array, ext: string = extensionOf(bytes)): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, `fuzz-${target}-${seed}.${ext}`);
  writeFileSync(path, bytes);
  return path;
}

function report<T extends unknown[]>(
  target: string,
  result: fc.RunDetails<T>,
  slowestMs: number,
  started: number,
  file: (example: T[0]) => string,
): boolean {
  const seconds = (performance.now() - started) / 1000;
  if (!result.failed) {
    console.log(`  ${target}: ${result.numRuns} inputs in ${seconds.toFixed(1)} s, slowest ${slowestMs.toFixed(1)} ms: ok`);
    return true;
  }
  console.log(`  ${target}: FAILED after ${result.numRuns} inputs (${seconds.toFixed(1)} s)`);
  console.log(fc.defaultReportMessage(result));
  const error = result.errorInstance;
  if (error instanceof Error) console.log(error.stack, error.cause instanceof Error ? `\ncaused by: ${error.cause.stack}` : '');
  if (result.counterexample !== null && result.counterexample !== undefined) {
    const path = file(result.counterexample[0]);
    console.log(`\n  minimised input written to ${path}`);
    console.log(`  reproduce: FUZZ_SEED=${seed} FUZZ_TARGET=${target} FUZZ_RUNS=${runs} npm run fuzz`);
    console.log(`  replay:    node --import tsx src/cli/entry.ts analyze ${path} --json  (then add it to fixtures/regressions/)`);
  }
  return false;
}

const targets: Record<string, () => Promise<boolean>> = {
  async capture() {
    const check = timed((c: Case) => checkCaptureCase(seeds, c));
    const t = performance.now();
    const r = fc.check(fc.property(caseArb(seeds.length), check.fn), { seed, numRuns: runs });
    return report('capture', r, check.slowestMs(), t, (c) => {
      console.log(`  case: ${describeCase(seeds, c)}`);
      return save('capture', mutate(seeds, c));
    });
  },
  async 'capture-small'() {
    const check = timed((c: Case, limit: number) => checkCaptureCase(seeds, c, limit));
    const t = performance.now();
    const r = fc.check(fc.property(caseArb(seeds.length), fc.constantFrom(...SMALL_LIMITS), check.fn), { seed, numRuns: runs });
    return report('capture-small', r, check.slowestMs(), t, (c) => {
      console.log(`  case: ${describeCase(seeds, c)}`);
      return save('capture-small', mutate(seeds, c));
    });
  },
  async decode() {
    const check = timed((c: DecodeCase) => checkDecodeCase(c));
    const t = performance.now();
    const r = fc.check(fc.property(decodeCaseArb(seeds), check.fn), { seed, numRuns: runs });
    return report('decode', r, check.slowestMs(), t, (c) => {
      const w = new PcapWriter({ linkType: c.linkType });
      const packet = { tsSec: 1_700_000_000, tsNanos: 0, data: c.data };
      w.writePacket(c.originalLength === undefined ? packet : { ...packet, originalLength: c.originalLength });
      return save('decode', w.toBytes(), 'pcap');
    });
  },
  async analyze() {
    let slowest = 0;
    const t = performance.now();
    const r = await fc.check(
      fc.asyncProperty(caseArb(seeds.length), async (c) => {
        const start = performance.now();
        const input = mutate(seeds, c);
        await checkAnalyzeInput(input, chunkBytes(input, c.chunks));
        slowest = Math.max(slowest, performance.now() - start);
      }),
      { seed, numRuns: Math.max(1, Math.round(runs / 50)) },
    );
    return report('analyze', r, slowest, t, (c) => {
      console.log(`  case: ${describeCase(seeds, c)}`);
      return save('analyze', mutate(seeds, c));
    });
  },
};

let ok = true;
for (const [name, run] of Object.entries(targets)) {
  if (only !== undefined && only !== name) continue;
  ok = (await run()) && ok;
}
process.exitCode = ok ? 0 : 1;
