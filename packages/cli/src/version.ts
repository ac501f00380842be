import { readFileSync } from 'node:fs';

/**
 * The package version, read from package.json at run time (src/ and dist/ are both one level
 * below it), so a release bump needs no code change.
 */
export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
