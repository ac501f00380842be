import { packageBuild } from '../../tools/rollup.config.mjs';

// `echo` is the light entry of the user-input escaping helpers: the CLI's start-up path needs them
// without the registry, tsyringe and reflect-metadata that the root entry loads.
export default packageBuild(import.meta.dirname, { inputs: { index: 'src/index.ts', echo: 'src/echo.ts' } });
