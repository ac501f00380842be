import 'reflect-metadata';
import { registerPlugin } from '@pkeysim/core';
import { vkeysPlugin } from './plugin';

export { VirtualKeyMachine } from './machine';
export {
  VirtualKeySpace,
  VKEY_RIGHTS,
  PARKING_KEY,
  FIRST_SLOT,
  HARDWARE_SLOTS,
  type VirtualKeyStats,
  type VirtualPage,
  type RetagHost,
} from './space';
export { vkeysPlugin } from './plugin';

// Importing the package makes `--arch vkeys` selectable.
registerPlugin(vkeysPlugin);
