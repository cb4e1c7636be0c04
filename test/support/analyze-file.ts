/**
 * Test helpers: run the pure core over a file, and normalise a result for golden comparison.
 */
import { createReadStream, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze, inspectCapture } from '../../src/analyze.ts';
import type { AnalyzeOptions } from '../../src/analyze.ts';
import type { AnalysisReport, CaptureFacts } from '../../src/report/model.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CAPTURES_DIR = join(REPO_ROOT, 'fixtures', 'captures');
export const EXPECTED_DIR = join(REPO_ROOT, 'fixtures', 'expected');
/** The shared corpus sits beside the repository (`../shared/corpus`); absent on some machines. */
export const CORPUS_DIR = resolve(REPO_ROOT, '..', 'shared', 'corpus');
export const corpusPresent = existsSync(join(CORPUS_DIR, 'tshark-reference.json'));

export async function analyzeFile(path: string, options: Partial<AnalyzeOptions> = {}): Promise<AnalysisReport> {
  return analyze(createReadStream(path, { highWaterMark: 1 << 16 }), { file: path, ...options });
}

export async function inspectFile(path: string): Promise<CaptureFacts> {
  return inspectCapture(createReadStream(path, { highWaterMark: 1 << 16 }), { file: path });
}

/** Marker placed first in every generated golden file. */
export const GOLDEN_MARKER = 'generated - do not edit - run `npm run golden:update`';

/**
 * What a golden file holds: the report with the tool version and the machine-specific file path
 * normalised, so goldens survive version bumps and checkouts in other folders.
 */
export function normaliseForGolden(report: AnalysisReport, name: string): Record<string, unknown> {
  return {
    _generated: GOLDEN_MARKER,
    ...report,
    tool: { name: report.tool.name, version: '<version>' },
    capture: { ...report.capture, file: name },
  };
}
