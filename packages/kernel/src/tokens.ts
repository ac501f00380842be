import type { InjectionToken } from 'tsyringe';
import type { KernelConfig } from './config';

/**
 * The kernel's configuration token: the kernel declares it because it owns the type. A container
 * builds the kernel with `container.register(KERNEL_CONFIG, { useValue: resolveKernelConfig(input) })`
 * and `container.resolve(Kernel)`. The key is the one core used to declare, so containers that
 * registered `Symbol.for('pkeysim.KernelConfig')` keep working.
 */
export const KERNEL_CONFIG: InjectionToken<KernelConfig> = Symbol.for('pkeysim.KernelConfig');
