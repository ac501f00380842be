import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, type BrowserSession, openBrowser } from './chromium';
import { runCli } from './run-cli';

describe('HTML reports in chromium', () => {
  let session: BrowserSession;
  // Room for a slow chromium start (openBrowser allows 90 s) beyond the default hook timeout.
  beforeAll(async () => {
    session = await openBrowser();
  }, 120_000);
  afterAll(() => session?.close());

  it('demo --html writes one offline file whose table and charts chromium renders', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pkeysim-report-')), 'r.html');
    const run = await runCli(['demo', '--runs', '1', '--html', file]);
    expect(run.code).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org)/);
    const { page, errors, context } = session;
    const requests: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    // One row per scheme: off, keys, pagetable, vkeys, capability.
    await expect(page.locator('[data-testid="report-table"] tbody tr').count()).resolves.toBe(5);
    for (const chart of ['strays', 'bytes-lost', 'cycles', 'cycles-per-switch'])
      await expect(page.locator(`[data-testid="chart-${chart}"] .bar`).count()).resolves.toBeGreaterThanOrEqual(3);
    // The keys scheme blocks every stray: its bar is all "blocked", none "landed".
    const keys = page.locator('[data-testid="chart-strays"] .bar[data-label="keys"]');
    await expect(keys.locator('rect.bad').getAttribute('width')).resolves.toBe('0.0');
    const box = await page.locator('[data-testid="chart-cycles"]').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-report.png'), fullPage: true });
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('campaign --html writes a report with the strays per kind', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pkeysim-report-')), 'c.html');
    const run = await runCli(['campaign', 'pmem', '--seed', '1', '--protection', 'off', '--html', file]);
    expect(run.code).toBe(0);
    const { page, errors } = session;
    await page.goto(pathToFileURL(file).href);
    await expect(page.locator('h1').textContent()).resolves.toBe('pkeysim campaign: pmem');
    await expect(page.locator('[data-testid="chart-strays"] .bar').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('[data-testid="chart-strays"] rect.bad').count()).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'campaign-report.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
