import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, type BrowserSession, openBrowser } from './chromium';
import { withInspector } from './with-inspector';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/rfc-v1-interrupt.yaml');

describe('pkeysim inspect in chromium', () => {
  let session: BrowserSession;
  // Room for a slow chromium start (openBrowser allows 90 s) beyond the default hook timeout.
  beforeAll(async () => {
    session = await openBrowser();
  }, 120_000);
  afterAll(() => session?.close());

  it('serves a page that renders per-CPU decoded rights and the timeline, with no console errors', async () => {
    await withInspector([EXAMPLE, '--no-open', '--port', '0'], async (url) => {
      const { page, errors } = session;
      await page.goto(url);
      await page.waitForSelector('body[data-ready="true"]');
      await expect(page.locator('[data-testid="cpu-0-supervisor"] .key').count()).resolves.toBe(16);
      await expect(page.locator('[data-testid="lane-0"] .slice').count()).resolves.toBeGreaterThanOrEqual(3);
      // The scrubber reaches the handler's return; CPU 0 shows the key the handler closed.
      const exit = Number(await page.locator('#log li', { hasText: 'exit   irq 42' }).first().getAttribute('data-seq'));
      await page.locator('#scrubber').fill(String(exit));
      await expect(page.getByTestId('step-label').textContent()).resolves.toBe(
        `step ${exit} / ${(await page.locator('#log li').count()) - 1}`,
      );
      await expect(page.getByTestId('cpu-0-rights-change').textContent()).resolves.toContain('rw → --');
      await page.screenshot({ path: join(ARTIFACTS, 'pkeysim-inspect.png'), fullPage: false });
      expect(errors).toEqual([]);
    });
  });
});
