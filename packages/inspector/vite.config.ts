import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The inspector page: built once into dist/page and shipped in the package, so `pkeysim inspect`
// serves files and needs neither a build nor the network. Relative URLs: the server mounts it at /.
export default defineConfig({
  root: resolve(import.meta.dirname, 'page'),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: resolve(import.meta.dirname, 'dist/page'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});
