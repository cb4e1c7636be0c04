/**
 * The malformed corpus (fixtures/malformed/, made by scripts/make-malformed.ts): every file gives
 * the typed error or the warning its README line promises, and keeps the records before the damage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureFormatError } from '../../src/capture/index.ts';
import { malformedCases, type MalformedExpectation } from '../../scripts/make-malformed.ts';
import { readBytes } from './helpers.ts';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/malformed');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, MalformedExpectation>;

for (const c of malformedCases()) {
  test(`${c.file}: ${c.description}`, () => {
    const bytes = new Uint8Array(readFileSync(join(dir, c.file)));
    assert.deepEqual(bytes, c.bytes, 'fixture on disk is stale: run scripts/make-malformed.ts');
    assert.deepEqual(expected[c.file], c.expect);
    for (const size of [1, 7, Math.max(1, bytes.length)]) {
      if (c.expect.errorOffset !== undefined) {
        assert.throws(
          () => readBytes(bytes, size),
          (e: unknown) => e instanceof CaptureFormatError && e.byteOffset === c.expect.errorOffset,
        );
        continue;
      }
      const { records, summary } = readBytes(bytes, size);
      assert.equal(records.length, c.expect.records);
      assert.equal(summary.stoppedEarly, true);
      assert.deepEqual(
        summary.warnings.slice(0, 1).map((w) => [w.code, w.byteOffset]),
        [[c.expect.warningCode, c.expect.warningOffset]],
      );
    }
  });
}
