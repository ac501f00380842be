import 'reflect-metadata';
import { registerPlugin } from '@pkeysim/core';
import { arm64PoePlugin } from './plugin';

export * from './registers';
export { overlayField, withOverlayField, overlayOfDenials, denialsOfOverlay } from './overlay';
export { arm64Descriptors, armLevel } from './descriptor';
export { checkPoeAccess, OVERLAY_OFF } from './access-check';
export { Arm64Exception, isArm64Exception, type Arm64ExceptionKind } from './exception';
export { PorSpace, type PorRegisters } from './domain-spaces';
export { Arm64PoeMachine, type Arm64PoeMachineOptions, type Arm64PoeFeatures, type Arm64SysReg } from './machine';
export { arm64PoePlugin } from './plugin';
export { arm64PoeUserPkeyAbi } from './user-pkey-abi';

// Importing the package makes `--arch arm64-poe` selectable.
registerPlugin(arm64PoePlugin);
