import 'reflect-metadata';
import { registerPlugin } from '@pkeysim/core';
import { capabilityPlugin } from './plugin';

export { CapabilityMachine, CAPABILITY_FAULT } from './machine';
export { CapabilityTable, MAX_CAPABILITIES, permFor } from './table';
export { capabilityPlugin } from './plugin';

// Importing the package makes `--arch capability` selectable.
registerPlugin(capabilityPlugin);
