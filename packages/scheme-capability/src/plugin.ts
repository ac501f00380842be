import { definePlugin, type ProtectionPlugin } from '@pkeysim/core';
import { CapabilityMachine } from './machine';

/** The capability scheme plugin: `createMachine({ arch: 'capability', ... })` builds a {@link CapabilityMachine}. */
export const capabilityPlugin: ProtectionPlugin = definePlugin({
  name: 'capability',
  kind: 'scheme',
  description:
    'CHERI-like capabilities: bounds and permissions per pointer, checked on every access made through one (no rights register, no switches)',
  machine: (config) => CapabilityMachine.fromConfig(config),
});
