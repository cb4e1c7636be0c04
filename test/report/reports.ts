/**
 * The reports the renderer tests run on. Today: the hand-built sample; when the pipeline lands,
 * add reports of the kernel scenario captures here and every test below runs on them too.
 */
import type { AnalysisReport } from '../../src/report/model.ts';
import { buildSampleReport } from './sample-report.ts';

export function reportsUnderTest(): readonly (readonly [name: string, report: AnalysisReport])[] {
  return [['sample', buildSampleReport()]];
}

/** The `<svg>` of each ladder figure in `html`, by flow id. */
export function ladderSvgs(html: string): Map<number, string> {
  const out = new Map<number, string>();
  const re = /<figure class="timeline ladder-fig" data-flow="(\d+)">([\s\S]*?)<\/figure>/g;
  for (const m of html.matchAll(re)) out.set(Number(m[1]), m[2] ?? '');
  return out;
}
