import '@pkeysim/x86';
import { createKernel } from '@pkeysim/kernel';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  UserKernel,
  type UserKernelOptions,
  type UserThread,
} from '../src';

/** A kernel with user keys and one running process on CPU 0. */
export function userBoot(options: UserKernelOptions & { cpus?: number; pku?: boolean } = {}) {
  const kernel = createKernel({ cpus: options.cpus ?? 2, features: { userDomains: options.pku ?? true } });
  const u = new UserKernel(kernel, options);
  const process = u.spawn('test', 0);
  u.switchTo(process.main);
  return { kernel, u, process, t: process.main };
}

export function anon(t: UserThread, length = 0x1000, prot = PROT_READ | PROT_WRITE): number {
  const a = t.mmap(0, length, prot, MAP_PRIVATE | MAP_ANONYMOUS);
  if (a < 0) throw new Error(`mmap failed ${a}`);
  return a;
}

/** The x86 PKRU word of a one-word state. */
export function pkru(state: readonly number[] | undefined): number {
  if (!state) throw new Error('no PKRU');
  return state[0];
}
