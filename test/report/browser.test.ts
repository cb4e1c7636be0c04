/**
 * Opens rendered reports in headless Debian Chromium (never a downloaded browser) with every
 * network request blocked, and checks what a reader would: nothing leaves the page, no console
 * error, every finding and every timeline is there, the script works. Screenshots go to
 * test-output/report/ (gitignored).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { renderHtml } from '../../src/report/render-html.ts';
import { reportsUnderTest } from './reports.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = fileURLToPath(new URL('../../test-output/report/', import.meta.url));
const available = existsSync(CHROMIUM);
if (!available && process.env['CI'] !== undefined) {
  throw new Error(`${CHROMIUM} is missing: install the Debian package 'chromium' (apt-get install chromium) to run the browser test`);
}
const skip = available ? false : `${CHROMIUM} not found (apt-get install chromium); browser test skipped`;

describe('report in headless Chromium', { skip }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    mkdirSync(OUT, { recursive: true });
  });
  after(async () => {
    await browser?.close();
  });

  for (const [name, report] of reportsUnderTest()) {
    it(`${name}: self-contained, no console error, findings and timelines present`, async () => {
      const html = renderHtml(report);
      const file = `${OUT}${name}.html`;
      writeFileSync(file, html);
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: true });
      const page = await context.newPage();
      const pageUrl = `file://${file}`;
      const blocked: string[] = [];
      await context.route('**/*', async (route) => {
        if (route.request().url() === pageUrl) return route.continue();
        blocked.push(route.request().url());
        return route.abort();
      });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pageUrl, { waitUntil: 'load' });

      assert.deepEqual(blocked, [], 'no request left the page');
      assert.deepEqual(errors, [], 'no console error');
      const ids = await page.$$eval('article.finding', (els) => els.map((e) => e.getAttribute('data-finding-id')));
      assert.deepEqual([...ids].sort(), report.findings.map((f) => f.id).sort());
      for (const f of report.findings) assert.ok(await page.getByText(f.title, { exact: true }).first().isVisible(), f.title);
      const flagged = report.findings.some((f) => f.flows.some((id) => report.flows.some((x) => x.id === id)));
      if (flagged) assert.ok((await page.locator('figure.ladder-fig svg').count()) > 0, 'ladder diagrams');
      assert.equal(await page.locator('#timelines svg.swimlane, #timelines svg.density').count(), 1, 'all-connections timeline');
      assert.ok((await page.locator('#charts svg').count()) >= 3, 'charts');

      // The inline script: copy buttons are shown and the state filter hides rows.
      assert.equal(await page.locator('button[data-copy-finding]:visible').count(), report.findings.length);
      const rows = await page.locator('#conn-table tbody tr').count();
      await page.selectOption('#f-state', 'CLOSE_WAIT').catch(() => undefined);
      const shown = await page.locator('#conn-table tbody tr:visible').count();
      assert.ok(shown <= rows);
      await page.selectOption('#f-state', '');
      await page.screenshot({ path: `${OUT}${name}.png`, fullPage: true });
      await context.close();
    });

    it(`${name}: readable with JavaScript disabled`, async () => {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.setContent(renderHtml(report));
      assert.equal(await page.locator('article.finding').count(), report.findings.length);
      assert.equal(await page.locator('#conn-table tbody tr:visible').count(), Math.min(2000, report.flows.length));
      assert.equal(await page.locator('.controls:visible').count(), 0, 'JS-only controls stay hidden');
      await context.close();
    });
  }
});
