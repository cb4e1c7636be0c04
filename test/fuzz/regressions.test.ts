/**
 * Every fuzzer-found input in fixtures/regressions/ goes through `analyze()`, whole and in 1- and
 * 7-byte chunks, and must give the typed outcome recorded in fixtures/regressions/expected.json.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../src/analyze.ts';
import { CaptureFormatError } from '../../src/capture/index.ts';
import { REPO_ROOT } from '../support/analyze-file.ts';
import { checkAnalyzeInput, chunkBytes } from './harness.ts';

const DIR = join(REPO_ROOT, 'fixtures', 'regressions');

interface Expected {
  readonly outcome: 'report' | 'error';
  /** For `error`: the CaptureFormatError's byte offset. */
  readonly byteOffset?: number;
  readonly packets?: number;
  readonly tcpPackets?: number;
  readonly partial?: boolean;
  readonly warnings?: readonly { readonly code: string; readonly byteOffset: number }[];
}

const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, Expected>;
const files = readdirSync(DIR).filter((f) => f !== 'README.md' && f !== 'expected.json').sort();

async function* source(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

describe('fuzzer regressions', () => {
  it('the directory holds regression files, each with an expected outcome', () => {
    assert.ok(files.length >= 3);
    assert.deepEqual(Object.keys(expected).sort(), files);
  });

  for (const file of files) {
    it(file, async () => {
      const want = expected[file];
      assert.ok(want !== undefined, `no entry for ${file} in expected.json`);
      const bytes = new Uint8Array(readFileSync(join(DIR, file)));
      for (const sizes of [[], [1], [7]]) {
        const chunks = chunkBytes(bytes, sizes);
        assert.equal(await checkAnalyzeInput(bytes, chunks), want.outcome, `chunks ${JSON.stringify(sizes)}`);
        try {
          const report = await analyze(source(chunks), { file });
          assert.equal(want.outcome, 'report');
          if (want.packets !== undefined) assert.equal(report.capture.packets, want.packets);
          if (want.tcpPackets !== undefined) assert.equal(report.capture.tcpPackets, want.tcpPackets);
          if (want.partial !== undefined) assert.equal(report.capture.partial, want.partial);
          if (want.warnings !== undefined) {
            assert.deepEqual(report.capture.warnings.map((w) => ({ code: w.code, byteOffset: w.byteOffset })), want.warnings);
          }
        } catch (error: unknown) {
          if (!(error instanceof CaptureFormatError)) throw error;
          assert.equal(want.outcome, 'error', error.message);
          if (want.byteOffset !== undefined) assert.equal(error.byteOffset, want.byteOffset);
        }
      }
    });
  }
});
