import { packageBuild } from '../../tools/rollup.config.mjs';

// `vectors` (the QEMU-derived vector parser and runner) is its own entry: it needs zod, which the
// machine and `--arch x86` must not load.
export default packageBuild(import.meta.dirname, {
  inputs: { index: 'src/index.ts', vectors: 'src/vectors/index.ts' },
});
