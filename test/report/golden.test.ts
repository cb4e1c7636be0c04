/**
 * Golden HTML and per-chart SVG of the sample report. Regenerate with `UPDATE_GOLDEN=1 node
 * --import tsx --test test/report/golden.test.ts` (or `npm run golden:update`) and review the diff.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderHtml } from '../../src/report/render-html.ts';
import { renderLadder } from '../../src/report/svg/ladder.ts';
import { buildSampleReport } from './sample-report.ts';

const DIR = fileURLToPath(new URL('../../fixtures/expected/report/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const MARKER = 'generated — do not edit — run `npm run golden:update`';

function golden(name: string, actual: string, comment: (s: string) => string): void {
  const path = DIR + name;
  const content = `${comment(MARKER)}\n${actual}`;
  if (UPDATE || !existsSync(path)) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(path, content);
    if (!UPDATE) assert.fail(`${name} did not exist and was written; review it and run again`);
    return;
  }
  assert.equal(content, readFileSync(path, 'utf8'), `${name} differs from the golden file; rerun with UPDATE_GOLDEN=1 if intended`);
}

describe('golden report output', () => {
  const report = buildSampleReport();
  it('sample report HTML', () => golden('sample.html', renderHtml(report), (s) => `<!-- ${s} -->`));
  for (const id of [9, 12]) {
    it(`ladder SVG of flow ${id}`, () => {
      const flow = report.flows.find((f) => f.id === id)!;
      golden(`ladder-flow-${id}.svg`, renderLadder(flow), (s) => `<!-- ${s} -->`);
    });
  }
});
