import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium, installed by tools/ensure-system-deps.sh; never a downloaded browser. */
export const CHROMIUM = process.env.PKEYSIM_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots and other artifacts of the browser tests (gitignored, kept by CI). */
export const ARTIFACTS = resolve(import.meta.dirname, '../test-results/browser');

export interface BrowserSession {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught page errors seen so far. */
  readonly errors: string[];
  close(): Promise<void>;
}

/** Launch headless chromium with a fresh, empty profile and collect console errors. */
export async function openBrowser(): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run tools/ensure-system-deps.sh (installs Debian's chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'pkeysim-chromium-'));
  // A new, empty profile each time (playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1400, height: 1000 },
    // Starting chromium took over 30 s while CI built and tested other packages on both cores.
    timeout: 90_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
