/**
 * A capture larger than 4 GiB read from a pipe: byte offsets past 32 bits stay exact, nothing is
 * buffered beyond a record, and a cut at the very end is reported at its true offset.
 *
 * The capture is made on the fly by `emit-large-capture.ts` (our PcapWriter and frame writer) in
 * a child process and read through an OS pipe. `TCPMORTEM_SCALE_PIPE_BYTES` sets its size
 * (default 2^32 + 256 MiB, about 4 s per pass here). Asserts bounds, never times.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readCapture } from '../../src/capture/index.ts';
import type { CaptureWarning } from '../../src/capture/types.ts';
import { REPO_ROOT } from '../support/analyze-file.ts';
import { CLI_ENTRY, CLI_ENV } from '../cli/run-cli.ts';

const TOTAL_BYTES = Number(process.env['TCPMORTEM_SCALE_PIPE_BYTES'] ?? 2 ** 32 + 2 ** 28);
const TWO_32 = 2 ** 32;
const RSS_LIMIT_BYTES = 300 * 1024 * 1024;
/** Bytes of the extra record written after the last whole one: the capture is cut inside it. */
const CUT_BYTES = 100;
const EMITTER = join(REPO_ROOT, 'test', 'scale', 'emit-large-capture.ts');
/** pcap record header (16) + Ethernet (14) + IPv4 (20) + TCP (20) + 65,000 payload bytes. */
const RECORD_BYTES = 16 + 14 + 20 + 20 + 65_000;
const WHOLE_RECORDS = Math.floor((TOTAL_BYTES - 24) / RECORD_BYTES);
const CUT_OFFSET = 24 + WHOLE_RECORDS * RECORD_BYTES;

function emit(): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', EMITTER, String(TOTAL_BYTES), String(CUT_BYTES)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

describe('scale: a capture larger than 4 GiB from a pipe', () => {
  it(`readCapture: ${WHOLE_RECORDS} records, offsets past 2^32 exact, cut reported at byte ${CUT_OFFSET}, RSS under 300 MB`, async () => {
    const child = emit();
    let records = 0;
    let badOffsets = 0;
    let lastOffset = 0;
    const warnings: CaptureWarning[] = [];
    const summary = await readCapture(child.stdout!, {
      record: (rec) => {
        if (rec.byteOffset !== 24 + records * RECORD_BYTES || rec.capturedLength !== RECORD_BYTES - 16) badOffsets++;
        lastOffset = rec.byteOffset;
        records++;
      },
      warning: (w) => warnings.push(w),
    });
    assert.equal(records, WHOLE_RECORDS);
    assert.equal(badOffsets, 0, 'every record at 24 + index * record size');
    if (TOTAL_BYTES > TWO_32) assert.ok(lastOffset > TWO_32, `last record at ${lastOffset}`);
    assert.equal(summary.records, WHOLE_RECORDS);
    assert.equal(summary.bytesRead, CUT_OFFSET, "bytes consumed: the cut record is not");
    assert.equal(summary.stoppedEarly, true);
    assert.deepEqual(warnings.map((w) => [w.code, w.byteOffset, w.frameNumber]), [['truncated_final_record', CUT_OFFSET, WHOLE_RECORDS + 1]]);
    const peak = process.resourceUsage().maxRSS * 1024;
    assert.ok(peak < RSS_LIMIT_BYTES, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
  });

  it('tcpmortem analyze - on the same pipe: a complete JSON result marked partial, the warning names the 64-bit offset, exit 0', async () => {
    const source = emit();
    const cli = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'analyze', '-', '--json'], {
      cwd: REPO_ROOT,
      env: CLI_ENV,
      stdio: [source.stdout!, 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    cli.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    cli.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => cli.on('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.equal(stderr, `tcpmortem: warning: -: input ends ${CUT_BYTES} byte(s) into a record: the capture was cut short (at byte ${CUT_OFFSET})\n`);
    const doc = JSON.parse(stdout) as {
      capture: { packets: number; capturedBytes: number; partial: boolean; warnings: { byteOffset: number }[] };
      flows: { packets: { client: number; server: number } }[];
    };
    assert.equal(doc.capture.packets, WHOLE_RECORDS);
    assert.equal(doc.capture.capturedBytes, WHOLE_RECORDS * (RECORD_BYTES - 16));
    assert.equal(doc.capture.partial, true);
    assert.equal(doc.capture.warnings[0]?.byteOffset, CUT_OFFSET);
    assert.deepEqual(doc.flows.map((f) => f.packets), [{ client: WHOLE_RECORDS, server: 0 }]);
  });
});
