import { defineConfig, mergeConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared.mts';

// `pkeysim inspect` serves @pkeysim/inspector's prebuilt page: build it first when it is missing or stale.
export default mergeConfig(
  packageTestConfig(),
  defineConfig({ test: { globalSetup: ['../inspector/test/build-page.ts'] } }),
);
