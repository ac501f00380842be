export * from './abi';
export { USER_PAGE_SIZE, MMAP_BASE, MMAP_END, USER_STACK_TOP, USER_STACK_SIZE, TASK_SIZE } from './layout';
export type { Vma, VmaList } from './vma';
export { PkeyMap } from './pkey-map';
export type { PkeyHazard, PkeyFreeWarning } from './hazards';
export { UserMm, type CallerRights, type FaultDecision } from './mm';
export {
  CLEAR_14_2_GLOBAL_KEYS,
  SIGNAL_POLICIES,
  signalPolicy,
  type SignalPolicy,
  type SignalPolicyName,
} from './signal-policy';
export type { SigInfo, AltStack } from './sigframe';
export { MAX_SIGNAL_NESTING, type SigAction, type SignalContext, type SignalHandler } from './signals';
export { UserThread, MAX_FAULT_RETRIES, type UserResult, type CloneOptions } from './thread';
export { UserProcess } from './process';
export { Ptrace, PTRACE_WORD } from './ptrace';
export { PTRACE_PKRU_MODES, type PtracePkruMode, type RegsetNote, type CoreDump } from './regset';
export { getFutexKey, type FutexKey } from './futex';
export { UserKernel, type UserKernelOptions } from './user-kernel';
export { registeredUserPkeyAbi } from './arch-abi';
export {
  MAX_ITERATIONS,
  PROTECTION_KEYS_ITERATIONS,
  PKEYS_TESTS,
  pkeysCompiledOut,
  runPkeysSelftest,
  runPkeysTest,
  type PkeysCompiledOut,
  type PkeysSelftestOptions,
  type PkeysTestResult,
  type PkeysTestStatus,
} from './selftest';
