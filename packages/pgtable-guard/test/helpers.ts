import '@pkeysim/x86';
import { createKernel, type Kernel, type KernelConfigInput } from '@pkeysim/kernel';

/** A two-CPU kernel with V10's static keys and page-table protection on top (PKS_KEY_PG_TABLES rests write-disabled). */
export function boot(input: KernelConfigInput = {}): Kernel {
  return createKernel({ cpus: 2, keyDesign: 'static', pageTableProtection: true, ...input });
}

/** Run a fresh kernel thread named `name` on `cpu` and return the CPU view. */
export function runThread(kernel: Kernel, name: string, cpu = 0) {
  const thread = kernel.kthread_create(name, cpu);
  kernel.cpu(cpu).switchTo(thread);
  return { cpu: kernel.cpu(cpu), thread };
}

/** A dynamic-design kernel whose 15 keys are all taken. */
export function bootExhausted(): Kernel {
  const kernel = createKernel({ cpus: 2, keyDesign: 'dynamic' });
  for (let i = 1; i < 16; i++) kernel.pks_key_alloc(`hog${i}`);
  return kernel;
}
