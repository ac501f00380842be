// Shared rollup build for every publishable package: ESM + CJS + one bundled .d.ts.
// Dependencies (including sibling @pkeysim packages) stay external, so each package ships only itself.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

export function packageBuild(packageDir, { inputs = { index: 'src/index.ts' }, banner } = {}) {
  const pkg = JSON.parse(readFileSync(resolve(packageDir, 'package.json'), 'utf8'));
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const external = (id) =>
    builtins.has(id) || deps.some((d) => id === d || id.startsWith(`${d}/`)) || id.startsWith('@pkeysim/');
  const input = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, resolve(packageDir, v)]));
  const tsconfig = resolve(packageDir, 'tsconfig.build.json');
  return [
    {
      input,
      external,
      plugins: [
        typescript({
          tsconfig,
          compilerOptions: { declaration: false, declarationMap: false, sourceMap: true, paths: {} },
        }),
      ],
      output: [
        { dir: resolve(packageDir, 'dist'), format: 'es', entryFileNames: '[name].js', sourcemap: true, banner },
        {
          dir: resolve(packageDir, 'dist'),
          format: 'cjs',
          entryFileNames: '[name].cjs',
          sourcemap: true,
          banner,
          exports: 'named',
        },
      ],
    },
    ...Object.entries(input).map(([name, file]) => ({
      input: file,
      external,
      plugins: [dts({ tsconfig, compilerOptions: { paths: {} } })],
      output: { file: resolve(packageDir, 'dist', `${name}.d.ts`), format: 'es' },
    })),
  ];
}
