/**
 * The CLI's streamed outputs are the documents they replace: the report JSON written chunk by
 * chunk (stdout, `-o -`, `-o FILE`, `report --json FILE`) is byte for byte
 * `${JSON.stringify(report, null, 2)}\n`, and the `flows` listings written row by row are the
 * whole-list renderings (columns sized over every row, one NDJSON line per flow).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { analyzeFile, CAPTURES_DIR, REPO_ROOT } from '../support/analyze-file.ts';
import type { FlowRecord } from '../../src/tcp/types.ts';
import { runCli } from './run-cli.ts';

const NAME = 'churn.pcap';
const RELATIVE = `fixtures/captures/${NAME}`;

/** The analysis as the CLI names it, stringified the way the CLI used to print it. */
async function expectedJson(): Promise<{ text: string; flows: FlowRecord[] }> {
  const r = await analyzeFile(join(CAPTURES_DIR, NAME));
  const report = { ...r, capture: { ...r.capture, file: RELATIVE }, flows: [...r.flows] };
  return { text: `${JSON.stringify(report, null, 2)}\n`, flows: report.flows };
}

describe('streamed CLI outputs', async () => {
  const expected = await expectedJson();
  const dir = mkdtempSync(join(tmpdir(), 'tcpmortem-stream-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('analyze --json, -o - and -o FILE write JSON.stringify(report, null, 2) byte for byte', () => {
    const json = runCli(['analyze', RELATIVE, '--json']);
    assert.equal(json.status, 0, json.stderr);
    assert.equal(json.stdout, expected.text);
    const dash = runCli(['analyze', RELATIVE, '-o', '-']);
    assert.equal(dash.status, 0, dash.stderr);
    assert.equal(dash.stdout, expected.text, '-o - is stdout');
    const file = join(dir, 'out.json');
    const toFile = runCli(['analyze', RELATIVE, '-o', file]);
    assert.equal(toFile.status, 0, toFile.stderr);
    assert.equal(readFileSync(file, 'utf8'), expected.text);
  });

  it('report --json FILE writes the same document', () => {
    const file = join(dir, 'report.json');
    const r = runCli(['report', RELATIVE, '-o', join(dir, 'report.html'), '--json', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(file, 'utf8'), expected.text);
  });

  it('an unwritable -o FILE is one line on stderr, exit 2', () => {
    const r = runCli(['analyze', RELATIVE, '-o', join(dir, 'missing', 'x.json')]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stderr, `tcpmortem: -o ${join(dir, 'missing', 'x.json')}: no such directory: ${join(dir, 'missing')}\n`);
  });

  it('flows --format ndjson is one JSON.stringify line per flow, in id order', () => {
    const r = runCli(['flows', RELATIVE, '--format', 'ndjson']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, expected.flows.map((f) => `${JSON.stringify(f)}\n`).join(''));
  });

  it('flows (table) sizes its columns over every row and ends with the count', () => {
    const r = runCli(['flows', RELATIVE]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines.at(-1), '');
    assert.equal(lines.at(-2), `${expected.flows.length.toLocaleString('en-US')} ${expected.flows.length === 1 ? 'flow' : 'flows'}`);
    const rows = lines.slice(0, -2);
    assert.equal(rows.length, expected.flows.length + 1);
    // Every column but the last starts at the same offset on every line: the widths are global.
    const starts = (line: string): number[] => [...line.matchAll(/ {2}(?=\S)/g)].map((m) => m.index + 2);
    const headerStarts = starts(rows[0]!);
    for (const line of rows.slice(1)) assert.deepEqual(starts(line).slice(0, headerStarts.length), headerStarts, line);
  });
});

describe('a reader that stops early', () => {
  it('ends tcpmortem quietly with 141 (128 + SIGPIPE), as a C tool piped into head does', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'entry.ts'), 'flows', join(CAPTURES_DIR, 'churn.pcap'), '--format', 'ndjson'], { cwd: REPO_ROOT });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // About 1 MB of NDJSON: more than a pipe holds, so the child writes after the reader left.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 141);
    assert.equal(stderr, '');
  });
});
