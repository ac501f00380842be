import { packageBuild } from '../../tools/rollup.config.mjs';

export default packageBuild(import.meta.dirname, { inputs: { index: 'src/index.ts', worker: 'src/worker.ts' } });
