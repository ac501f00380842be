import type { InjectionToken } from 'tsyringe';
import type { MachineConfig } from './config';
import type { Machine } from './machine';
import type { CostModel } from './cost-model';

/**
 * Injection tokens of the interfaces core owns (the kernel declares its own, `KERNEL_CONFIG`).
 * Architecture plugins provide `Machine`, the kernel and tools consume it. Resolve once at construction and keep plain references: no lookups on the hot path.
 */
export const TOKENS = {
  MachineConfig: Symbol.for('pkeysim.MachineConfig') as InjectionToken<MachineConfig>,
  Machine: Symbol.for('pkeysim.Machine') as InjectionToken<Machine>,
  CostModel: Symbol.for('pkeysim.CostModel') as InjectionToken<CostModel>,
} as const;
