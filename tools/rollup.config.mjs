// Shared rollup build for every publishable package: ESM (.js) + CJS (.cjs), and types for each
// (.d.ts for import, .d.cts for require), one set per entry point.
// Dependencies (including sibling @pkeysim packages) stay external, so each package ships only itself.
// Code split out by dynamic import() (the CLI's lazily loaded commands) becomes chunks named per
// format (.js / .cjs), so the ESM and CJS builds never overwrite each other's.
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
      output: {
        dir: dist,
        format: 'es',
        entryFileNames: `[name].${extension}`,
        chunkFileNames: `chunks/[name]-[hash].${extension}`,
      },
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
          {
            dir: dist,
            format: 'es',
            entryFileNames: '[name].js',
            chunkFileNames: 'chunks/[name]-[hash].js',
            sourcemap: true,
            banner,
          },
          {
            dir: dist,
            format: 'cjs',
            entryFileNames: '[name].cjs',
            chunkFileNames: 'chunks/[name]-[hash].cjs',
            sourcemap: true,
            banner,
            exports: 'named',
          },
        ],
      },
      types('d.ts'),
      types('d.cts'),
    ];
  });
}
