// ESM (dist/index.js) and CJS (dist/index.cjs) builds, with types for each (.d.ts, .d.cts).
// Every dependency stays external: the plugin must share @pkeysim/core (and its plugin registry)
// with the program that loads it, never bundle a copy.
import { readFileSync } from 'node:fs';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
const external = (id) => id.startsWith('node:') || deps.some((d) => id === d || id.startsWith(`${d}/`));
const input = 'src/index.ts';

export default [
  {
    input,
    external,
    plugins: [typescript({ tsconfig: './tsconfig.build.json' })],
    output: [
      { file: 'dist/index.js', format: 'es', sourcemap: true },
      { file: 'dist/index.cjs', format: 'cjs', sourcemap: true, exports: 'named' },
    ],
  },
  { input, external, plugins: [dts()], output: { file: 'dist/index.d.ts', format: 'es' } },
  { input, external, plugins: [dts()], output: { file: 'dist/index.d.cts', format: 'es' } },
];
