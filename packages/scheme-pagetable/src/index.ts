import 'reflect-metadata';
import { registerPlugin } from '@pkeysim/core';
import { pagetablePlugin } from './plugin';

export { PageTableMachine } from './machine';
export {
  PageTableDomainSpace,
  PAGETABLE_INFO,
  PAGETABLE_DENIABLE,
  PAGETABLE_RIGHTS,
  type PageTableRightsHost,
} from './space';
export { ExposureLog, formatExposure, type ExposureWindow } from './exposure';
export { pagetablePlugin } from './plugin';

// Importing the package makes `--arch pagetable` selectable.
registerPlugin(pagetablePlugin);
