/**
 * Several captures at once (an audit): each capture its own result, a combined summary, the worst
 * exit code, and an unusable capture reported in one line without stopping the others.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES_DIR } from '../support/analyze-file.ts';
import { runCli } from './run-cli.ts';

interface AuditDoc {
  schema: string;
  results: { file: string; status: string; error?: string; report?: { schema: string; capture: { file: string; packets: number }; flows: unknown[] } }[];
  totals: { captures: number; unusable: number; packets: number; connections: number; worst: string };
}

/** A directory with two kernel captures, a non-capture named .pcap and a file that is ignored. */
function auditDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcpmortem-audit-'));
  const captures = join(dir, 'captures');
  mkdirSync(captures);
  copyFileSync(join(CAPTURES_DIR, 'refused.pcap'), join(captures, 'refused.pcap'));
  copyFileSync(join(CAPTURES_DIR, 'churn.pcap'), join(captures, 'churn.pcap'));
  writeFileSync(join(captures, 'broken.pcap'), 'not a capture at all\n');
  writeFileSync(join(captures, 'notes.txt'), 'ignored\n');
  mkdirSync(join(captures, 'sub'));
  copyFileSync(join(CAPTURES_DIR, 'half-close.pcap'), join(captures, 'sub', 'half-close.pcap'));
  return dir;
}

describe('analyze several captures (audit)', () => {
  it('--json prints one tcpmortem/1-audit document: every capture of a directory (sorted, not recursive) plus files, in order; an unusable one is reported and the rest analysed, exit 2', () => {
    const dir = auditDir();
    const extra = join(CAPTURES_DIR, 'close-wait-leak.pcap');
    const r = runCli(['analyze', join(dir, 'captures'), extra, '--json']);
    assert.equal(r.status, 2);
    const doc = JSON.parse(r.stdout) as AuditDoc;
    assert.equal(doc.schema, 'tcpmortem/1-audit');
    assert.deepEqual(
      doc.results.map((e) => [e.file, e.status]),
      [
        [join(dir, 'captures', 'broken.pcap'), 'unusable'],
        [join(dir, 'captures', 'churn.pcap'), 'ok'],
        [join(dir, 'captures', 'refused.pcap'), 'ok'],
        [extra, 'ok'],
      ],
    );
    for (const e of doc.results.filter((x) => x.status === 'ok')) {
      assert.equal(e.report?.schema, 'tcpmortem/1');
      assert.equal(e.report?.capture.file, e.file);
    }
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? '', /^tcpmortem: .*broken\.pcap: .+ \(at byte 0\)$/);
    assert.equal(doc.totals.captures, 4);
    assert.equal(doc.totals.unusable, 1);
    const ok = doc.results.flatMap((e) => (e.report !== undefined ? [e.report] : []));
    assert.equal(doc.totals.packets, ok.reduce((n, rep) => n + rep.capture.packets, 0));
    assert.equal(doc.totals.connections, ok.reduce((n, rep) => n + rep.flows.length, 0));
  });

  it('each result equals the single-capture analysis; -o DIR writes one <name>.json per capture', () => {
    const dir = auditDir();
    const out = join(dir, 'out');
    const r = runCli(['analyze', join(dir, 'captures', 'churn.pcap'), join(dir, 'captures', 'refused.pcap'), '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['churn.json', 'refused.json']);
    const single = runCli(['analyze', join(dir, 'captures', 'churn.pcap'), '--json']);
    assert.equal(readFileSync(join(out, 'churn.json'), 'utf8'), single.stdout);
    // The combined terminal summary: one line per capture and the totals.
    assert.match(r.stdout, /^capture\s+packets\s+connections\s+error\s+warning\s+info\s+worst/m);
    assert.match(r.stdout, /churn\.pcap\s+3000\s+300\s+/);
    assert.match(r.stdout, /^total \(2 captures\)\s+3006\s+303\s+/m);
  });

  it('the exit code is the worst over all captures with --fail-on', () => {
    const files = ['refused.pcap', 'churn.pcap'].map((f) => join(CAPTURES_DIR, f));
    const each = files.map((f) => runCli(['analyze', f, '--fail-on', 'warning']).status);
    const all = runCli(['analyze', ...files, '--fail-on', 'warning']);
    assert.equal(all.status, Math.max(...each));
  });

  it('report with several captures writes one HTML per capture into -o DIR', () => {
    const dir = auditDir();
    const out = join(dir, 'reports');
    const r = runCli(['report', join(dir, 'captures'), '-o', out]);
    assert.equal(r.status, 2, 'broken.pcap is unusable');
    assert.deepEqual(readdirSync(out).sort(), ['churn.html', 'refused.html']);
    assert.match(readFileSync(join(out, 'churn.html'), 'utf8'), /^<!doctype html>/i);
    assert.match(r.stdout, /Reports written to /);
  });
});
