import { packageTestConfig } from '../../vitest.shared.mts';

export default packageTestConfig();
