import { packageBuild } from '../../tools/rollup.config.mjs';

export default packageBuild(import.meta.dirname);
