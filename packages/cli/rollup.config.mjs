import { packageBuild } from '../../tools/rollup.config.mjs';

// `main` is the bin's light entry: the CLI without the library exports (and reflect-metadata) of
// `index`; each command's module is a chunk of its own, loaded when that command runs.
export default packageBuild(import.meta.dirname, { inputs: { index: 'src/index.ts', main: 'src/main.ts' } });
