/**
 * Every capture of the shared corpus is read with the same record count as TShark 4.0.17
 * (`tshark-reference.json`), and the files TShark or libpcap reject end with a
 * CaptureFormatError or with a warning and `stoppedEarly`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureFormatError, readCapture, type CaptureSummary } from '../../src/capture/index.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = resolve(repoRoot, '../shared/corpus');
const present = existsSync(join(corpus, 'tshark-reference.json'));

interface Reference {
  files: Record<string, { packets: number; tshark_read_error?: string | null }>;
}

function captureFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...captureFiles(path));
    else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(name)) out.push(path);
  }
  return out;
}

/**
 * Deliberate differences from TShark. Wireshark shows pcapng Custom Blocks (CB, and "DCB" = CB
 * that must not be copied) as frames; they carry no packet, so we skip them by length and count
 * only packet blocks. The generator's description file lists the block counts we subtract.
 */
function customBlocks(file: string): number {
  const description = file.replace(/\.pcapng$/, '.description.txt');
  if (!existsSync(description)) return 0;
  const text = readFileSync(description, 'utf8');
  let count = 0;
  for (const m of text.matchAll(/^\s*(CB|DCB):\s*(\d+)\s*$/gm)) count += Number(m[2]);
  return count;
}

if (!present) {
  describe('capture counts against tshark', () => {
    test('../shared/corpus not found: corpus suite skipped', { skip: '../shared/corpus not found: corpus suite skipped' }, () => {});
  });
} else {
  const reference = JSON.parse(readFileSync(join(corpus, 'tshark-reference.json'), 'utf8')) as Reference;
  describe('capture counts against tshark', () => {
    const files = captureFiles(corpus);
    test('every capture in the corpus has a tshark reference', () => {
      assert.ok(files.length >= 50);
      for (const file of files) assert.ok(reference.files[relative(corpus, file)] !== undefined, relative(corpus, file));
    });
    for (const file of files) {
      const key = relative(corpus, file);
      const ref = reference.files[key];
      if (ref === undefined) continue;
      const errorFile = file.replace(/\.(pcap|pcapng)$/, '.libpcap-expected-error.txt');
      const libpcapRejects = errorFile !== file && existsSync(errorFile);
      const tsharkError = typeof ref.tshark_read_error === 'string' && ref.tshark_read_error.length > 0;
      test(key, async () => {
        let records = 0;
        let summary: CaptureSummary | undefined;
        let formatError: CaptureFormatError | undefined;
        try {
          summary = await readCapture(createReadStream(file, { highWaterMark: 1 << 16 }), {
            record() {
              records++;
            },
          });
        } catch (error: unknown) {
          if (!(error instanceof CaptureFormatError)) throw error;
          formatError = error;
        }
        if (libpcapRejects || tsharkError) {
          // Damaged or rejected: a typed error, or a warning with stoppedEarly; and the records
          // TShark read before the damage are all there.
          if (formatError === undefined) {
            assert.ok(summary !== undefined);
            assert.equal(summary.stoppedEarly, true, `${key} should stop early`);
            assert.ok(summary.warnings.length > 0);
          }
          assert.equal(records, ref.packets);
          return;
        }
        assert.equal(formatError, undefined, formatError?.message);
        assert.equal(records, ref.packets - customBlocks(file));
        assert.equal(summary?.records, records);
      });
    }
  });
}
