/**
 * Golden `analyze` results: every committed capture under fixtures/captures is analysed and
 * compared, field for field, with fixtures/expected/<name>.json (regenerate with
 * `npm run golden:update` and review the diff). Also checks the result is deterministic.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFile, CAPTURES_DIR, EXPECTED_DIR, normaliseForGolden } from '../support/analyze-file.ts';

const captures = readdirSync(CAPTURES_DIR).filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f)).sort();

describe('golden analyze results', () => {
  for (const file of captures) {
    const name = file.replace(/\.(pcap|pcapng)(\.gz)?$/, '');
    const expectedPath = join(EXPECTED_DIR, `${name}.json`);
    it(name, { skip: existsSync(expectedPath) ? false : `no golden file yet: run npm run golden:update` }, async () => {
      const report = await analyzeFile(join(CAPTURES_DIR, file));
      const actual = JSON.parse(JSON.stringify(normaliseForGolden(report, file))) as unknown;
      const expected = JSON.parse(readFileSync(expectedPath, 'utf8')) as unknown;
      assert.deepEqual(actual, expected);
      const again = await analyzeFile(join(CAPTURES_DIR, file));
      assert.equal(JSON.stringify(again), JSON.stringify(report), 'same input, byte-identical result');
    });
  }
});
