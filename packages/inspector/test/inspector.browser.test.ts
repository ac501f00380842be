import '@pkeysim/x86';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseScenario } from '@pkeysim/scenario';
import { recordScenario } from '@pkeysim/timeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InspectorServer, inspectorPayload, serveInspector } from '../src';
import { ARTIFACTS, type BrowserSession, openBrowser } from './chromium';

const examples = resolve(import.meta.dirname, '../../../examples');

async function serve(name: string, yaml?: string): Promise<{ server: InspectorServer; key: number }> {
  const text = yaml ?? readFileSync(join(examples, name), 'utf8');
  const { timeline } = recordScenario(parseScenario(text, name));
  const key = timeline.steps.at(-1)!.keys.find((k) => k.key !== 0)?.key ?? 0;
  return { server: await serveInspector(inspectorPayload(timeline), { port: 0 }), key };
}

describe('the inspector in chromium', () => {
  let session: BrowserSession;
  // Room for a slow chromium start (openBrowser allows 90 s) beyond the default hook timeout.
  beforeAll(async () => {
    session = await openBrowser();
  }, 120_000);
  afterAll(() => session?.close());

  it('steps to the RFC V1 interrupt and shows the rights it corrupted on CPU 0', async () => {
    const { server, key } = await serve('rfc-v1-interrupt.yaml');
    const { page, errors } = session;
    try {
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="true"]');
      await expect(page.locator('#title').textContent()).resolves.toBe('rfc-v1-interrupt-corruption');
      // The timeline draws CPU 0's lane with the writer and, nested in it, the interrupt.
      await expect(page.locator('[data-testid="slice-0-writer"]').count()).resolves.toBe(1);
      const irq = page.locator('[data-testid="slice-0-irq 42"]');
      await expect(irq.count()).resolves.toBe(1);
      // Clicking the interrupt jumps to its entry; inside the handler the key is open.
      await irq.click();
      await expect(page.getByTestId('current-event').textContent()).resolves.toMatch(/entry\s+irq 42/);
      await expect(page.getByTestId('cpu-0-frames').textContent()).resolves.toContain('irq 42');
      // Step forward to the handler's return.
      for (let i = 0; i < 20; i++) {
        if (/exit\s+irq 42/.test((await page.getByTestId('current-event').textContent()) ?? '')) break;
        await page.click('#next');
      }
      await expect(page.getByTestId('current-event').textContent()).resolves.toMatch(/exit\s+irq 42/);
      const chip = page.locator(`[data-testid="cpu-0-supervisor"] .key[data-key="${key}"]`);
      await expect(chip.getAttribute('data-rights')).resolves.toBe('--');
      await expect(page.getByTestId('cpu-0-supervisor').getAttribute('data-register')).resolves.toBe('PKRS');
      await expect(page.getByTestId('cpu-0-thread').textContent()).resolves.toBe('writer');
      const banner = page.getByTestId('cpu-0-rights-change');
      await expect(banner.textContent()).resolves.toMatch(
        new RegExp(`CORRUPTED: irq 42 returned with different PKRS: key ${key} \\(irq_window_demo\\): rw → --`),
      );
      await page.screenshot({ path: join(ARTIFACTS, 'inspector-rfc-v1-interrupt.png'), fullPage: true });
      // One step back, inside the handler before it closed the key, the writer's window was open.
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await expect(chip.getAttribute('data-rights')).resolves.toBe('rw');
      await expect(page.getByTestId('cpu-0-rights-change').count()).resolves.toBe(0);
      // The oops is listed with its decoded error code.
      await expect(page.getByTestId('faults').textContent()).resolves.toMatch(/error code 0x23 \(P W PK\).*oops/);
      expect(errors).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('shows V9 entry code saving PKRS: no corruption, the saved value on the frame', async () => {
    const { server } = await serve('interrupt-aux-pt-regs.yaml');
    const { page, errors } = session;
    try {
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="true"]');
      await page.locator('[data-testid^="slice-0-irq"]').first().click();
      await expect(page.getByTestId('cpu-0-frames').textContent()).resolves.toMatch(/saved 0x/);
      await page.click('#last');
      await expect(page.locator('[data-testid$="-rights-change"]').count()).resolves.toBe(0);
      await expect(page.getByTestId('faults').textContent()).resolves.not.toContain('CORRUPTED');
      expect(errors).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
