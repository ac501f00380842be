import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const built = join(root, 'dist/page/index.html');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * vitest globalSetup: the browser tests load the prebuilt page from dist/page, so rebuild it (vite,
 * a second or two) when it is missing or older than its sources: a test never sees a stale page.
 */
export default async function setup(): Promise<void> {
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(root, 'page'))) return;
  const { build } = await import('vite');
  await build({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
}
