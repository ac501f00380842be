import '@pkeysim/x86';
import { createMachine, type Machine, Privilege, type RightsState } from '@pkeysim/core';
import { createKernel, Kernel, type KernelConfigInput, resolveKernelConfig } from '../src';

export function boot(input: KernelConfigInput = {}): Kernel {
  return createKernel({ cpus: 2, ...input });
}

/** An architecture with no supervisor key space at all: x86 with the PKS space hidden. */
export function bootWithoutSupervisorSpace(input: KernelConfigInput = {}): Kernel {
  const { machine } = createMachine({ arch: 'x86', cpus: input.cpus ?? 2 });
  const hidden = new Proxy(machine, {
    get(target, property, receiver) {
      if (property === 'domainSpace') {
        return (governs: Privilege) => (governs === Privilege.Supervisor ? undefined : target.domainSpace(governs));
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Machine;
  return new Kernel(hidden, resolveKernelConfig({ cpus: 2, ...input }));
}

/** The register word of a one-word state (x86 PKRS). */
export function word(state: RightsState): number {
  return state[0];
}

/** PKRS with key `key` given AD/WD bits `bits` (x86 layout: 2 bits per key). */
export function withBits(value: number, key: number, bits: number): number {
  return ((value & ~(3 << (2 * key))) | (bits << (2 * key))) >>> 0;
}

/** A snapshot of everything observable about rights and keys, to prove a refused call changed nothing. */
export function snapshot(kernel: Kernel): string {
  return JSON.stringify({
    cpus: kernel.cpus.map((c) => ({
      live: c.rights(),
      current: c.current.tid,
      frames: c.current.frames.length,
      kmaps: c.current.kmaps.length,
    })),
    threads: kernel.threads().map((t) => ({ tid: t.tid, pkrs: t.pkrs, pkru: t.pkru, state: t.state, cpu: t.cpu })),
    keys: kernel.pks_keys_allocated(),
  });
}
