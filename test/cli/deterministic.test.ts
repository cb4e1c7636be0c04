/**
 * Deterministic output: the same capture gives byte-identical JSON and HTML on every run (no
 * wall-clock time, no map-iteration order leaking), through the CLI as a user runs it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES_DIR } from '../support/analyze-file.ts';
import { runCli } from './run-cli.ts';

describe('deterministic output', () => {
  for (const name of ['churn.pcap', 'accept-overflow-rst.pcap']) {
    it(`${name}: analyze --json and report -o are byte-identical across runs`, () => {
      const path = join(CAPTURES_DIR, name);
      const dir = mkdtempSync(join(tmpdir(), 'tcpmortem-det-'));
      const json = [1, 2].map(() => runCli(['analyze', path, '--json']));
      for (const r of json) assert.equal(r.status, 0, r.stderr);
      assert.ok(json[0]!.stdout.length > 1000);
      assert.equal(json[0]!.stdout, json[1]!.stdout);
      const html = [1, 2].map((i) => {
        const out = join(dir, `report-${i}.html`);
        const r = runCli(['report', path, '-o', out]);
        assert.equal(r.status, 0, r.stderr);
        return readFileSync(out);
      });
      assert.ok(html[0]!.length > 1000);
      assert.ok(html[0]!.equals(html[1]!), 'HTML differs between two runs');
    });
  }
});
