/**
 * Golden HTML of the reports of two small kernel scenario captures (close-wait-leak and
 * accept-overflow-rst), and golden SVG of each of their ladder diagrams, so a chart change shows
 * as a small diff. The tool version is normalised to `<version>` and the file to its repository
 * path. Regenerate with `UPDATE_GOLDEN=1 node --import tsx --test test/report/golden.test.ts` (or
 * `npm run golden:update`) and review the diff.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderHtml } from '../../src/report/render-html.ts';
import { renderLadder } from '../../src/report/svg/ladder.ts';
import type { AnalysisReport } from '../../src/report/model.ts';
import { scenarioReport } from './reports.ts';

const DIR = fileURLToPath(new URL('../../fixtures/expected/report/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const MARKER = 'generated — do not edit — run `npm run golden:update`';
const SCENARIOS = ['close-wait-leak', 'accept-overflow-rst'];

function golden(name: string, actual: string): void {
  const path = DIR + name;
  const content = `<!-- ${MARKER} -->\n${actual}`;
  if (UPDATE || !existsSync(path)) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(path, content);
    if (!UPDATE) assert.fail(`${name} did not exist and was written; review it and run again`);
    return;
  }
  assert.equal(content, readFileSync(path, 'utf8'), `${name} differs from the golden file; rerun with UPDATE_GOLDEN=1 if intended`);
}

/** The report as the golden holds it: the tool version is not part of the rendering under test. */
function normalised(report: AnalysisReport): AnalysisReport {
  return { ...report, tool: { ...report.tool, version: '<version>' } };
}

for (const name of SCENARIOS) {
  describe(`golden report of ${name}`, async () => {
    const report = normalised(await scenarioReport(name));
    it('HTML', () => golden(`${name}.html`, renderHtml(report)));
    const flagged = new Set(report.findings.flatMap((f) => f.flows));
    for (const flow of [...report.flows].filter((f) => flagged.has(f.id))) {
      it(`ladder SVG of connection #${flow.id}`, () => golden(`${name}.ladder-${flow.id}.svg`, renderLadder(flow)));
    }
  });
}
