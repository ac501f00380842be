import { packageTestConfig } from '../../vitest.shared.mts';

const config = packageTestConfig();

// `pkeysim inspect` serves @pkeysim/inspector's prebuilt page: build it first when stale.
export default {
  ...config,
  test: { ...config.test, globalSetup: ['../inspector/test/build-page.ts'] },
};
