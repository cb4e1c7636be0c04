/**
 * Findings on every capture of the shared corpus: no crash, no detector error, and the findings
 * equal the table in test/corpus/findings-table.md, which was reviewed by hand once, so that any
 * change in what tcpmortem diagnoses on real captures shows in review. Regenerate with
 * `UPDATE_GOLDEN=1 node --import tsx --test test/corpus/findings.test.ts` (npm run golden:update
 * does it) and read the diff.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFile, CORPUS_DIR, corpusPresent, REPO_ROOT } from '../support/analyze-file.ts';
import { CaptureFormatError } from '../../src/capture/types.ts';

const TABLE = join(REPO_ROOT, 'test', 'corpus', 'findings-table.md');

describe('shared corpus: findings per capture', { skip: corpusPresent ? false : '../shared/corpus not found: corpus suite skipped' }, () => {
  if (!corpusPresent) return;
  it('every capture analyses without a crash or detector error, and the findings equal the reviewed table', async () => {
    const reference = JSON.parse(readFileSync(join(CORPUS_DIR, 'tshark-reference.json'), 'utf8')) as { files: Record<string, unknown> };
    const rows: string[] = [];
    for (const name of Object.keys(reference.files).sort()) {
      let report;
      try {
        report = await analyzeFile(join(CORPUS_DIR, name));
      } catch (err) {
        assert.ok(err instanceof CaptureFormatError, `${name}: ${String(err)}`);
        rows.push(`| ${name} | (not a capture: rejected) | | | |`);
        continue;
      }
      const errored = report.detectors.filter((d) => d.status === 'error');
      assert.deepEqual(errored, [], `${name}: detectors failed`);
      if (report.findings.length === 0) rows.push(`| ${name} | (none) | | | |`);
      for (const f of report.findings) rows.push(`| ${name} | ${f.id} | ${f.severity} | ${f.endpoint} | ${f.count} |`);
    }
    const table =
      '<!-- generated - do not edit - run `npm run golden:update`; reviewed by hand: a change here is a change in diagnosis -->\n' +
      '| capture | finding | severity | endpoint | connections |\n|---|---|---|---|---|\n' +
      rows.join('\n') +
      '\n';
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(TABLE)) writeFileSync(TABLE, table);
    assert.equal(table, readFileSync(TABLE, 'utf8'));
  });
});
