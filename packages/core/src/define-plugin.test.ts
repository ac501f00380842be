import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import type { MachineConfig } from './config';
import { definePlugin } from './define-plugin';
import type { Machine } from './machine';
import { createMachine, registerPlugin } from './plugin';
import { TOKENS } from './tokens';
import { USER_PKEY_ABI, type UserPkeyAbi } from './user-pkey-abi';

/** A stand-in machine that only remembers the config it was built from. */
function recordingMachine(config: MachineConfig): Machine {
  return { arch: config.arch, config } as unknown as Machine;
}

describe('definePlugin', () => {
  it('builds the machine from the container config once per container and registers nothing else', () => {
    let built = 0;
    const plugin = registerPlugin(
      definePlugin({
        name: 'define-plugin-test',
        kind: 'scheme',
        description: 'records its config',
        machine: (config) => {
          built++;
          return recordingMachine(config);
        },
      }),
    );
    expect(Object.isFrozen(plugin)).toBe(true);
    expect(plugin).toMatchObject({ name: 'define-plugin-test', kind: 'scheme', description: 'records its config' });
    expect('packageName' in plugin).toBe(false);
    const { machine, container } = createMachine({ arch: 'define-plugin-test', cpus: 3 });
    expect((machine as unknown as { config: MachineConfig }).config.cpus).toBe(3);
    expect(container.resolve(TOKENS.Machine)).toBe(machine);
    expect(built).toBe(1);
    expect(container.isRegistered(USER_PKEY_ABI)).toBe(false);
    createMachine({ arch: 'define-plugin-test', cpus: 1 });
    expect(built).toBe(2);
  });

  it('registers the user pkey ABI built for the config when the definition has one', () => {
    const abi = { pkeys: 16 } as unknown as UserPkeyAbi;
    const seen: MachineConfig[] = [];
    const plugin = registerPlugin(
      definePlugin({
        name: 'define-plugin-abi-test',
        packageName: 'pkeysim-plugin-abi-test',
        kind: 'architecture',
        description: 'has a user pkey ABI',
        machine: recordingMachine,
        userPkeyAbi: (config) => {
          seen.push(config);
          return abi;
        },
      }),
    );
    expect(plugin.packageName).toBe('pkeysim-plugin-abi-test');
    const { container } = createMachine({ arch: 'define-plugin-abi-test', cpus: 1, options: { k: 1 } });
    expect(container.resolve(USER_PKEY_ABI)).toBe(abi);
    expect(seen.map((c) => c.options)).toEqual([{ k: 1 }]);
  });
});
