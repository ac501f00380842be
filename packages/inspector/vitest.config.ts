import { defineConfig, mergeConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared.mts';

// The browser tests load the prebuilt page: build it first when it is missing or stale.
export default mergeConfig(packageTestConfig(), defineConfig({ test: { globalSetup: ['test/build-page.ts'] } }));
