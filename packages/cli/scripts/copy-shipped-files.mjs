// Build step: copy the repository's examples/ and the docs/ pages the CLI's help cites into the
// package, so `pkeysim run examples/...`, `pkeysim examples` and the cited docs work after an npm
// install. The copies are build output (gitignored), refreshed on every build.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const cli = resolve(import.meta.dirname, '..');
const repo = resolve(cli, '..', '..');
for (const dir of ['examples', 'docs']) {
  const target = resolve(cli, dir);
  rmSync(target, { recursive: true, force: true });
  if (existsSync(resolve(repo, dir))) {
    cpSync(resolve(repo, dir), target, { recursive: true, filter: (src) => !src.includes('/docs/api') });
  }
}
