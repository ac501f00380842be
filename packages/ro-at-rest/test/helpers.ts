import '@pkeysim/x86';
import { createKernel, type Kernel, type KernelConfigInput } from '@pkeysim/kernel';
import { roKernelConsumers } from '../src';

/** A two-CPU kernel whose static keys include PKS_KEY_RO_AT_REST (write-disabled at rest). */
export function boot(input: KernelConfigInput = {}): Kernel {
  return createKernel({ cpus: 2, keyDesign: 'static', consumers: roKernelConsumers, ...input });
}

export function runThread(kernel: Kernel, name: string, cpu = 0) {
  const thread = kernel.kthread_create(name, cpu);
  kernel.cpu(cpu).switchTo(thread);
  return { cpu: kernel.cpu(cpu), thread };
}
