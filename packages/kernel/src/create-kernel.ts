import { createMachine, TOKENS } from '@pkeysim/core';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { type KernelConfigInput, resolveKernelConfig } from './config';
import { Kernel } from './kernel';
import { KERNEL_CONFIG } from './tokens';

/**
 * Build a machine with the configured architecture plugin (the caller imports the plugin package,
 * e.g. `import '@pkeysim/x86'`) and boot a kernel on it. The machine is resolved once and handed to
 * the kernel as a value, so both see the same object.
 */
export function createKernel(input: KernelConfigInput = {}, parent: DependencyContainer = rootContainer): Kernel {
  const config = resolveKernelConfig(input);
  const { machine, container } = createMachine(
    { arch: config.arch, cpus: config.cpus, features: config.features, options: config.machineOptions },
    parent,
  );
  const scope = container.createChildContainer();
  scope.register(TOKENS.Machine, { useValue: machine });
  scope.register(KERNEL_CONFIG, { useValue: config });
  return scope.resolve(Kernel);
}
