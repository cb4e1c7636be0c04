/**
 * Nothing lost: a capture cut mid-record on stdin, and Ctrl-C during a run, both give a complete
 * result of what was read, marked partial; `--no-partial` turns Ctrl-C into exit 130 and no output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CAPTURES_DIR, REPO_ROOT } from '../support/analyze-file.ts';
import { CLI_ENTRY, CLI_ENV, runCli } from './run-cli.ts';

/** Byte offsets of the records of a little-endian classic pcap (the kernel fixtures are). */
function recordOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  for (let at = 24; at + 16 <= bytes.length; at += 16 + view.getUint32(at + 8, true)) offsets.push(at);
  return offsets;
}

interface PartialDoc {
  capture: { partial: boolean; packets: number; warnings: { byteOffset: number }[] };
}

describe('nothing lost', () => {
  it('report - on a capture cut mid-record writes the HTML marked partial, warns with the byte offset, exit 0', () => {
    const bytes = readFileSync(join(CAPTURES_DIR, 'churn.pcap'));
    const offsets = recordOffsets(bytes);
    const cutRecord = Math.floor(offsets.length / 2);
    const cutAt = offsets[cutRecord]! + 16 + 5; // 5 bytes into the record's data
    const dir = mkdtempSync(join(tmpdir(), 'tcpmortem-cut-'));
    const html = join(dir, 'cut.html');
    const json = join(dir, 'cut.json');
    const r = runCli(['report', '-', '-o', html, '--json', json], bytes.subarray(0, cutAt));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^tcpmortem: warning: -: .+ \\(at byte ${offsets[cutRecord]}\\)$`, 'm'));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const doc = JSON.parse(readFileSync(json, 'utf8')) as PartialDoc;
    assert.equal(doc.capture.partial, true);
    assert.equal(doc.capture.packets, cutRecord, 'every whole record before the cut');
    assert.equal(doc.capture.warnings[0]?.byteOffset, offsets[cutRecord]);
    const page = readFileSync(html, 'utf8');
    assert.match(page, /results are partial/);
    assert.match(r.stdout, /partial: reading stopped early/);
  });

  /**
   * Starts `analyze - --json ARGS`, writes the first half of churn.pcap to its stdin and keeps it
   * open; once the child has read it (the write callback fires after the pipe buffer drained,
   * and half the file is more than a pipe buffer), sends SIGINT.
   */
  async function interruptMidCapture(extra: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; whole: number }> {
    const bytes = readFileSync(join(CAPTURES_DIR, 'churn.pcap'));
    const half = bytes.subarray(0, Math.floor(bytes.length / 2));
    const whole = recordOffsets(half).filter((at) => at + 16 + half.readUInt32LE(at + 8) <= half.length).length;
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'analyze', '-', '--json', ...extra], { cwd: REPO_ROOT, env: CLI_ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => child.stdin.write(half, (err) => (err ? reject(err) : resolve())));
    await sleep(1000);
    child.kill('SIGINT');
    const code = await exited;
    child.stdin.destroy();
    return { code, stdout, stderr, whole };
  }

  it('Ctrl-C during analyze - --json writes a complete JSON document of the packets read so far, marked partial, exit 0', async () => {
    const r = await interruptMidCapture([]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as PartialDoc;
    assert.equal(doc.capture.partial, true);
    assert.ok(doc.capture.packets > 0 && doc.capture.packets <= r.whole, `${doc.capture.packets} of ${r.whole} whole records written`);
    assert.match(r.stderr, /interrupted: finishing with what was read so far/);
    assert.doesNotMatch(r.stderr, /\n\s+at |Premature close/, 'no stack trace, no stream error');
  });

  it('Ctrl-C with --no-partial exits 130 without a JSON document', async () => {
    const r = await interruptMidCapture(['--no-partial']);
    assert.equal(r.code, 130);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /interrupted/);
  });
});
