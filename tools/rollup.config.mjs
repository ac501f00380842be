// Shared rollup build for every publishable package: ESM (.js) + CJS (.cjs), and types for each
// (.d.ts for import, .d.cts for require), one set per entry point.
// Dependencies (including sibling @pkeysim packages) stay external, so each package ships only itself.
// An entry that needs another entry of the same package imports it by its public name
// (`@pkeysim/plugin-kit/conformance`), so no code is shared through hidden chunks.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

/**
 * @param packageDir the package's folder
 * @param options.inputs entry name -> source file; `index` is the package root (`"."`), any other
 *   name `x` is the subpath export `./x`
 */
export function packageBuild(packageDir, { inputs = { index: 'src/index.ts' }, banner } = {}) {
  const pkg = JSON.parse(readFileSync(resolve(packageDir, 'package.json'), 'utf8'));
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const external = (id) =>
    builtins.has(id) || deps.some((d) => id === d || id.startsWith(`${d}/`)) || id.startsWith('@pkeysim/');
  const tsconfig = resolve(packageDir, 'tsconfig.build.json');
  const dist = resolve(packageDir, 'dist');

  return Object.entries(inputs).flatMap(([name, source]) => {
    const input = { [name]: resolve(packageDir, source) };
    const types = (extension) => ({
      input,
      external,
      plugins: [dts({ tsconfig, compilerOptions: { paths: {} } })],
      output: { dir: dist, format: 'es', entryFileNames: `[name].${extension}` },
    });
    return [
      {
        input,
        external,
        plugins: [
          typescript({
            tsconfig,
            // Published source maps carry their sources: the .ts files themselves are not shipped.
            compilerOptions: {
              declaration: false,
              declarationMap: false,
              sourceMap: true,
              inlineSources: true,
              paths: {},
            },
          }),
        ],
        output: [
          { dir: dist, format: 'es', entryFileNames: '[name].js', sourcemap: true, banner },
          { dir: dist, format: 'cjs', entryFileNames: '[name].cjs', sourcemap: true, banner, exports: 'named' },
        ],
      },
      types('d.ts'),
      types('d.cts'),
    ];
  });
}
