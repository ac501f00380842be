import { type DomainSpace, getPlugin, type RightsState, USER_PKEY_ABI, type UserPkeyAbi } from '@pkeysim/core';
import { container as rootContainer } from 'tsyringe';
import type { Kernel } from '@pkeysim/kernel';

/**
 * The user-space pkey ABI the kernel's architecture plugin registers (USER_PKEY_ABI), or undefined
 * when it registers none (a scheme, or an architecture without user keys: the pkey syscalls then
 * behave as on a kernel without ARCH_HAS_PKEYS). The plugin registers into a scratch container,
 * once per UserKernel, exactly as createMachine() lets it; nothing there is built.
 */
export function registeredUserPkeyAbi(kernel: Kernel): UserPkeyAbi | undefined {
  const { arch, cpus, features, machineOptions } = kernel.config;
  const scope = rootContainer.createChildContainer();
  getPlugin(arch).register(scope, { arch, cpus, features, options: machineOptions });
  return scope.isRegistered(USER_PKEY_ABI) ? scope.resolve(USER_PKEY_ABI) : undefined;
}

/**
 * A register shared by user and kernel (POWER's AMR): the context switch writes the kernel's value,
 * so the user layer keeps each thread's user value in its task (thread.regs->amr, restored on every
 * exit to user mode) and loads it when the thread is switched in. Every write the user layer makes
 * goes through this view, which records it for the thread running on that CPU.
 */
export function recordingView(space: DomainSpace, record: (cpu: number, state: RightsState) => void): DomainSpace {
  return Object.freeze({
    info: space.info,
    available: (cpu: number) => space.available(cpu),
    enabled: (cpu: number) => space.enabled(cpu),
    enable: (cpu: number) => space.enable(cpu),
    read: (cpu: number) => space.read(cpu),
    load: (cpu: number, state: RightsState) => {
      space.load(cpu, state);
      record(cpu, state);
    },
    initialState: () => space.initialState(),
    denialsOf: (state: RightsState, domain: number) => space.denialsOf(state, domain),
    withDenials: (state: RightsState, domain: number, denials: number) => space.withDenials(state, domain, denials),
    format: (state: RightsState) => space.format(state),
  });
}
