import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;
// Tests run against sibling packages' sources, so `npm test` needs no build first.
const alias = Object.fromEntries(
  readdirSync(resolve(root, 'packages')).map((dir) => [
    `@pkeysim/${dir}`,
    resolve(root, 'packages', dir, 'src/index.ts'),
  ]),
);

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
    },
  });
}
