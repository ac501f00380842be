import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the prebuilt page is: `dist/page` beside the built module (dist/index.js), or, when run
 * from sources (tests), the package's own dist/page. `npm install` builds it (the package's build
 * script runs vite), and the published package ships it.
 */
export function pageDirectory(): string {
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, 'page'), resolve(here, '../dist/page')];
  const found = candidates.find((dir) => existsSync(resolve(dir, 'index.html')));
  if (!found)
    throw new Error(
      `the inspector page is not built (looked in ${candidates.join(', ')}): run "npm run build -w @pkeysim/inspector"`,
    );
  return found;
}
