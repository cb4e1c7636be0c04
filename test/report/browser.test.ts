/**
 * Opens the reports of the kernel scenario captures in headless Debian Chromium (never a
 * downloaded browser) with every network request blocked, and checks what a reader would: nothing
 * leaves the page, no console error, every finding (id and title) is there, every ladder the view
 * model chose and the all-connections timeline are drawn, the script works. One full-page
 * screenshot per report goes to test-output/report/ (gitignored).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { renderHtml } from '../../src/report/render-html.ts';
import { buildReportView } from '../../src/report/view-model.ts';
import { reportsUnderTest } from './reports.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = fileURLToPath(new URL('../../test-output/report/', import.meta.url));
const available = existsSync(CHROMIUM);
if (!available && process.env['CI'] !== undefined) {
  throw new Error(`${CHROMIUM} is missing: install the Debian package 'chromium' (apt-get install chromium) to run the browser test`);
}
const skip = available ? false : `${CHROMIUM} not found (apt-get install chromium); browser test skipped`;
const reports = available ? await reportsUnderTest() : [];

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

  for (const [name, report] of reports) {
    it(`${name}: self-contained, no console error, findings and timelines present`, async () => {
      const html = renderHtml(report);
      const view = buildReportView(report);
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

      // Every finding, by id and by visible title.
      const ids = await page.$$eval('article.finding', (els) => els.map((e) => e.getAttribute('data-finding-id')));
      assert.deepEqual([...ids].sort(), report.findings.map((f) => f.id).sort());
      for (const f of report.findings) {
        const card = page.locator(`article.finding[data-finding-id="${f.id}"]`).first();
        assert.ok(await card.getByText(f.title, { exact: true }).first().isVisible(), f.title);
      }

      // A ladder for every flagged connection the view model chose (all of them below the caps),
      // and one group per finding that names connections.
      const drawn = await page.$$eval('figure.ladder-fig', (els) => els.map((e) => Number(e.getAttribute('data-flow'))));
      assert.deepEqual(drawn, view.ladders.map((l) => l.flow.id));
      for (const id of drawn) assert.equal(await page.locator(`figure.ladder-fig[data-flow="${id}"] svg.ladder`).count(), 1, `ladder of #${id}`);
      const flagged = new Set(report.findings.flatMap((f) => f.flows));
      if (flagged.size <= 24) for (const id of flagged) assert.ok(drawn.includes(id), `flagged connection #${id} has a ladder`);
      for (const f of report.findings) {
        if (f.flows.length > 0) assert.equal(await page.locator(`.ladder-group[data-finding-id="${f.id}"]`).count(), 1, `timelines of ${f.id}`);
      }

      // The all-connections timeline: one row per connection (or the density view).
      const lanes = page.locator('#timelines svg.swimlane, #timelines svg.density');
      assert.equal(await lanes.count(), 1, 'all-connections timeline');
      if (view.swimlane.mode === 'rows') assert.equal(await page.locator('#timelines svg.swimlane .lane').count(), report.flows.length);
      assert.ok((await page.locator('#charts svg').count()) >= 3, 'charts');

      // The inline script: copy buttons are shown and the state filter hides rows.
      assert.equal(await page.locator('button[data-copy-finding]:visible').count(), report.findings.length);
      const rows = await page.locator('#conn-table tbody tr').count();
      assert.equal(rows, report.flows.length);
      const state = view.table.states[0];
      if (state !== undefined) {
        await page.selectOption('#f-state', state);
        const expected = [...report.flows].filter((f) => f.finalState.client === state || f.finalState.server === state).length;
        assert.equal(await page.locator('#conn-table tbody tr:visible').count(), expected, `state filter ${state}`);
      }
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
