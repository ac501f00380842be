import type { AddressSpaceId, DomainSpace, Machine, RightsState } from '@pkeysim/core';
import type { KernelConfig } from './config';
import type { KeyTable } from './keys/key-table';
import type { KernelLog } from './log';
import type { OopsReport } from './oops';
import type { PkrsWriter } from './rights/pkrs-writer';
import type { TaskStruct } from './sched/thread';

/** Per-CPU kernel state. */
export interface CpuState {
  readonly id: number;
  current: TaskStruct;
  readonly idle: TaskStruct;
}

/**
 * The state every kernel module shares: plain references resolved once at boot, so no module looks
 * anything up on the hot path.
 */
export interface KernelContext {
  readonly machine: Machine;
  readonly config: KernelConfig;
  /** The supervisor-key space, when the architecture has one. */
  readonly space: DomainSpace | undefined;
  /** The user-key space, when the architecture has one and every CPU enumerates it. */
  readonly userSpace: DomainSpace | undefined;
  /** Supervisor keys are enumerated by every CPU and switched on: the key API works. */
  readonly supported: boolean;
  readonly keys: KeyTable;
  /** PKS_INIT_VALUE (empty when unsupported). */
  readonly initValue: RightsState;
  readonly writer: PkrsWriter;
  readonly kernelSpace: AddressSpaceId;
  readonly cpus: readonly CpuState[];
  /** Every thread ever created, by tid - 1 (kernel.threads()). */
  readonly threads: TaskStruct[];
  /** The threads not dead, in no particular order: what per-thread scans walk (rights/live.ts). */
  readonly alive: TaskStruct[];
  readonly log: KernelLog;
  panic: OopsReport | undefined;
}
