import type { DomainSpace, Machine, RightsState, UserPkeyAbi } from '@pkeysim/core';
import type { Kernel } from '@pkeysim/kernel';
import type { PtracePkruMode } from './regset';
import type { SignalPolicy } from './signal-policy';
import type { SignalDelivery } from './signals';
import type { UserProcess } from './process';
import type { UserThread } from './thread';

/** What every user-space module shares except signal delivery, which is built on it (see UserKernel). */
export interface UserEnv {
  readonly kernel: Kernel;
  readonly machine: Machine;
  /** The user-key space when switched on everywhere (OSPKE), else undefined. */
  readonly keys: DomainSpace | undefined;
  /** The architecture's user-space pkey ABI; defined whenever `keys` is. */
  readonly abi: UserPkeyAbi | undefined;
  readonly policy: SignalPolicy;
  /** How PTRACE_SETREGSET treats the PKRU in an NT_X86_XSTATE buffer. */
  readonly ptracePkru: PtracePkruMode;
  /** init_pkru_value now (changeable at run time, as the debugfs file allows). */
  initPkru(): RightsState | undefined;
  readonly threads: Map<number, UserThread>;
  readonly processes: UserProcess[];
  nextPid(): number;
}

/** What every user-space module shares: plain references resolved once (see UserKernel). */
export interface UserWorld extends UserEnv {
  readonly signals: SignalDelivery;
}
