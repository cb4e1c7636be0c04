/**
 * Regenerates every golden file from the committed captures: `npm run golden:update`.
 * fixtures/captures/<name>.pcap[ng] -> fixtures/expected/<name>.json (the analyze result),
 * then the HTML report goldens and the corpus findings table (UPDATE_GOLDEN=1 on their tests).
 * Review the diff before committing: a golden file is an assertion.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { analyzeFile, CAPTURES_DIR, EXPECTED_DIR, normaliseForGolden, REPO_ROOT } from '../test/support/analyze-file.ts';

process.env['TZ'] = 'UTC';
const captures = readdirSync(CAPTURES_DIR).filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f)).sort();
for (const file of captures) {
  const name = basename(file).replace(/\.(pcap|pcapng)(\.gz)?$/, '');
  const report = await analyzeFile(join(CAPTURES_DIR, file));
  const out = join(EXPECTED_DIR, `${name}.json`);
  writeFileSync(out, `${JSON.stringify(normaliseForGolden(report, file), null, 2)}\n`);
  console.log(`wrote ${out}: ${report.flows.length} flows, ${report.findings.length} findings`);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'test/report/golden.test.ts', 'test/corpus/findings.test.ts'], {
  cwd: REPO_ROOT,
  env: { ...process.env, UPDATE_GOLDEN: '1' },
  stdio: 'inherit',
});
process.exitCode = r.status ?? 1;
