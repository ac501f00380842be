import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @pkeysim/cli's own directory and manifest, found by walking up from this module: it may sit in
 * src/, dist/ or a chunk below dist/, so a fixed relative path would be wrong for some of them.
 */
export function cliPackage(): { dir: string; version: string } | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === '@pkeysim/cli')
        return { dir, version: typeof pkg.version === 'string' ? pkg.version : 'unknown' };
    } catch {
      // an unreadable manifest on the way up is not ours
    }
  }
  return undefined;
}
