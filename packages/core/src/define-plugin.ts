import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { MachineConfig } from './config';
import type { Machine } from './machine';
import type { ProtectionPlugin } from './plugin';
import { TOKENS } from './tokens';
import { USER_PKEY_ABI, type UserPkeyAbi } from './user-pkey-abi';

/** What {@link definePlugin} needs: the plugin's identity, how to build its machine, and what else it provides. */
export interface PluginDefinition {
  /** The name users select it by (`--arch x86`). Lower case, no spaces. */
  readonly name: string;
  /** An architecture models hardware; a scheme builds domains out of another mechanism. */
  readonly kind: 'architecture' | 'scheme';
  /** One line for listings (`pkeysim plugins`). */
  readonly description: string;
  /** The npm package that provides it, for listings. */
  readonly packageName?: string;
  /** Build the machine for `config`. Called once per container, on first resolution of {@link TOKENS.Machine}. */
  readonly machine: (config: MachineConfig) => Machine;
  /** The user-space pkey ABI of an architecture that has one (registered under {@link USER_PKEY_ABI}). */
  readonly userPkeyAbi?: (config: MachineConfig) => UserPkeyAbi;
}

/**
 * A frozen {@link ProtectionPlugin} from a definition: `register` provides {@link TOKENS.Machine} as a
 * factory cached per container (the machine is resolved once, then used as a plain object: no DI on
 * the hot path), built from the container's {@link TOKENS.MachineConfig}, and the user pkey ABI when
 * the definition has one. The DI setup every plugin needs lives here once.
 */
export function definePlugin(definition: PluginDefinition): ProtectionPlugin {
  const { machine, userPkeyAbi } = definition;
  return Object.freeze({
    name: definition.name,
    kind: definition.kind,
    description: definition.description,
    ...(definition.packageName !== undefined ? { packageName: definition.packageName } : {}),
    register(container: DependencyContainer, config: MachineConfig): void {
      container.register(TOKENS.Machine, {
        useFactory: instanceCachingFactory((c) => machine(c.resolve(TOKENS.MachineConfig))),
      });
      if (userPkeyAbi) container.register(USER_PKEY_ABI, { useValue: userPkeyAbi(config) });
    },
  });
}
