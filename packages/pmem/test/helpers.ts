import '@pkeysim/x86';
import { Deny } from '@pkeysim/core';
import { type Cpu, createKernel, type Kernel, type KernelConfigInput } from '@pkeysim/kernel';
import { PmemNamespace, type PmemNamespaceOptions } from '../src';

/** A static-design kernel (PKS_KEY_PGMAP_PROTECTION) with a 4-page namespace and a worker on CPU 0. */
export function setup(options: Partial<PmemNamespaceOptions> = {}, config: KernelConfigInput = {}) {
  const kernel = createKernel({ cpus: 2, keyDesign: 'static', ...config });
  const ns = PmemNamespace.create(kernel, { pages: 4, ...options });
  const cpu = kernel.cpu(0);
  const worker = kernel.kthread_create('worker', 0);
  cpu.switchTo(worker);
  return { kernel, ns, cpu, worker };
}

/** Put a fresh thread on `cpu` (after an oops left it idle, or to act as "another thread"). */
export function runNew(kernel: Kernel, cpu: Cpu, name: string): void {
  cpu.switchTo(kernel.kthread_create(name, cpu.id));
}

/** The live denials of the pgmap key on `cpu`. */
export function keyDenials(kernel: Kernel, cpu: Cpu, key: number): number {
  return kernel.space!.denialsOf(cpu.rights(), key);
}

export const OPEN = Deny.None;
export const CLOSED = Deny.Access;

export function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}
