import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;

/**
 * Tests run against sibling packages' sources, so `npm test` needs no build first. Each package's
 * root and subpath exports (`@pkeysim/plugin-kit/conformance`) map to the source its rollup build
 * compiles: the `inputs` of its rollup.config.mjs, `src/index.ts` by default.
 */
function sourceAliases(): { find: string; replacement: string }[] {
  const aliases: { find: string; replacement: string }[] = [];
  for (const dir of readdirSync(resolve(root, 'packages'))) {
    const packageDir = resolve(root, 'packages', dir);
    if (!existsSync(resolve(packageDir, 'package.json'))) continue;
    const rollup = resolve(packageDir, 'rollup.config.mjs');
    const inputs = existsSync(rollup) ? /inputs:\s*\{([^}]*)\}/.exec(readFileSync(rollup, 'utf8')) : null;
    const entries = inputs
      ? [...inputs[1].matchAll(/(\w+):\s*'([^']+)'/g)].map((m) => [m[1], m[2]] as const)
      : [['index', 'src/index.ts'] as const];
    for (const [name, source] of entries) {
      const find = name === 'index' ? `@pkeysim/${dir}` : `@pkeysim/${dir}/${name}`;
      aliases.push({ find, replacement: resolve(packageDir, source) });
    }
  }
  // Longest first, so `@pkeysim/plugin-kit/conformance` is not taken as `@pkeysim/plugin-kit` + a path.
  return aliases.sort((a, b) => b.find.length - a.find.length);
}
const alias = sourceAliases().map(({ find, replacement }) => ({
  find: new RegExp(`^${find.replace(/[/.-]/g, '\\$&')}$`),
  replacement,
}));

export function packageTestConfig() {
  return defineConfig({
    resolve: { alias },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      benchmark: { include: ['bench/**/*.bench.ts', 'src/**/*.bench.ts'] },
      environment: 'node',
      // Whole-machine simulations (campaigns, the demo, 10,000-sequence properties) share two cores
      // with other packages' runs under nx; a generous per-test limit keeps load from failing them.
      testTimeout: 60_000,
      // Hooks start real programs too (chromium for the browser tests, redis-server): a cold
      // chromium start on a loaded two-core machine was seen to take over vitest's default 10 s.
      hookTimeout: 60_000,
    },
  });
}
