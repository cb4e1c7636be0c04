/**
 * README screenshots of a real report: `node --import tsx scripts/screenshot.ts [CAPTURE] [OUT_DIR]`
 * (defaults: fixtures/captures/accept-overflow-rst.pcap, docs/images/). Analyses the capture,
 * renders the report, opens it in Debian's headless Chromium (playwright-core, never a downloaded
 * browser, every network request blocked) at 1280 px and writes:
 *   report.png        the top of the page (verdict and first finding),
 *   report-ladder.png the first ladder diagram.
 */
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { analyze } from '../src/analyze.ts';
import { renderHtml } from '../src/report/render-html.ts';

const root = resolve(import.meta.dirname, '..');
const capture = resolve(process.argv[2] ?? join(root, 'fixtures/captures/accept-overflow-rst.pcap'));
const outDir = resolve(process.argv[3] ?? join(root, 'docs/images'));

const report = await analyze(createReadStream(capture), { file: relative(root, capture) || basename(capture) });
const work = mkdtempSync(join(tmpdir(), 'tcpmortem-shot-'));
const page = join(work, 'report.html');
writeFileSync(page, renderHtml(report));
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  await context.route('**/*', (route) => (route.request().url() === `file://${page}` ? route.continue() : route.abort()));
  const tab = await context.newPage();
  await tab.goto(`file://${page}`, { waitUntil: 'load' });
  await tab.screenshot({ path: join(outDir, 'report.png') });
  const ladder = tab.locator('figure.ladder-fig').first();
  if ((await ladder.count()) > 0) await ladder.screenshot({ path: join(outDir, 'report-ladder.png') });
  console.log(`wrote ${join(outDir, 'report.png')}${(await ladder.count()) > 0 ? ' and report-ladder.png' : ''}`);
} finally {
  await browser.close();
  rmSync(work, { recursive: true, force: true });
}
