/**
 * The reports the renderer tests run on: the analyze results of the kernel scenario captures in
 * `fixtures/captures/` (real Linux TCP stacks driven in network namespaces), each analysed once
 * per test process. The hand-built sample (`sample-report.ts`) stays only where a synthetic input
 * is needed: hostile strings and the 200k-flow size test.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisReport } from '../../src/report/model.ts';
import { analyzeFile, CAPTURES_DIR } from '../support/analyze-file.ts';

/** Every kernel scenario capture, by name (file name without extension). */
export const SCENARIOS: readonly string[] = readdirSync(CAPTURES_DIR)
  .filter((f) => /\.(pcap|pcapng)$/.test(f))
  .map((f) => f.replace(/\.(pcap|pcapng)$/, ''))
  .sort();

const cache = new Map<string, Promise<AnalysisReport>>();

/**
 * The analyze result of one scenario capture, with `capture.file` set to its path relative to the
 * repository (`fixtures/captures/<name>.pcap`), so rendered reports do not depend on the checkout.
 */
export function scenarioReport(name: string): Promise<AnalysisReport> {
  let pending = cache.get(name);
  if (pending === undefined) {
    const file = readdirSync(CAPTURES_DIR).find((f) => f.replace(/\.(pcap|pcapng)$/, '') === name);
    if (file === undefined) throw new Error(`no capture named ${name} in ${CAPTURES_DIR}`);
    pending = analyzeFile(join(CAPTURES_DIR, file)).then((r) => ({
      ...r,
      capture: { ...r.capture, file: `fixtures/captures/${file}` },
    }));
    cache.set(name, pending);
  }
  return pending;
}

/** All scenario reports, in name order. */
export async function reportsUnderTest(
  names: readonly string[] = SCENARIOS,
): Promise<readonly (readonly [name: string, report: AnalysisReport])[]> {
  return Promise.all(names.map(async (n) => [n, await scenarioReport(n)] as const));
}

/** The `<svg>` of each ladder figure in `html`, by flow id. */
export function ladderSvgs(html: string): Map<number, string> {
  const out = new Map<number, string>();
  const re = /<figure class="timeline ladder-fig" data-flow="(\d+)"[^>]*>([\s\S]*?)<\/figure>/g;
  for (const m of html.matchAll(re)) out.set(Number(m[1]), m[2] ?? '');
  return out;
}
