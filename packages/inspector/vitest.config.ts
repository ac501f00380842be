import { packageTestConfig } from '../../vitest.shared.mts';

const config = packageTestConfig();

export default {
  ...config,
  test: { ...config.test, globalSetup: ['test/build-page.ts'] },
};
