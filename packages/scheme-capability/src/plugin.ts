import { type MachineConfig, type ProtectionPlugin, TOKENS } from '@pkeysim/core';
import { type DependencyContainer, instanceCachingFactory } from 'tsyringe';
import { CapabilityMachine } from './machine';

/** The capability scheme plugin: `createMachine({ arch: 'capability', ... })` builds a {@link CapabilityMachine}. */
export const capabilityPlugin: ProtectionPlugin = Object.freeze({
  name: 'capability',
  kind: 'scheme' as const,
  description:
    'CHERI-like capabilities: bounds and permissions per pointer, checked on every access made through one (no rights register, no switches)',
  register(container: DependencyContainer, _config: MachineConfig): void {
    container.register(TOKENS.Machine, {
      useFactory: instanceCachingFactory((c) => CapabilityMachine.fromConfig(c.resolve(TOKENS.MachineConfig))),
    });
  },
});
