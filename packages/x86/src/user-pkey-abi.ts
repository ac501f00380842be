/**
 * The x86 user-space protection-key ABI (PKU): what mainline Linux's pkey syscalls, glibc and signal
 * delivery do with PKRU. Each rule names the Linux source it follows.
 */
import { Deny, type UserPkeyAbi } from '@pkeysim/core';

/** The x86 user-space protection-key ABI (PKU), as mainline Linux implements it. */
export const x86UserPkeyAbi: UserPkeyAbi = Object.freeze<UserPkeyAbi>({
  arch: 'x86',
  spaceId: 'x86.pku',
  register: 'PKRU',
  // arch_max_pkey(): 16 with X86_FEATURE_OSPKE (arch/x86/include/asm/pkeys.h).
  keys: 16,
  // ARCH_DEFAULT_PKEY 0, set in the allocation map at mm init (arch/x86/include/asm/mmu_context.h).
  defaultKey: 0,
  reservedKeys: Object.freeze([]),
  // PKEY_ACCESS_MASK = PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE (include/uapi/asm-generic/mman-common.h).
  allocRights: Deny.Access | Deny.Write,
  // glibc sysdeps/unix/sysv/linux/x86/pkey_set.c: rights > 3 -> EINVAL.
  setRights: Deny.Access | Deny.Write,
  // arch_vma_access_permitted() ignores execute: PKRU never checks fetches (SDM 4.6.2).
  keysGovernFetch: false,
  // Supervisor-mode accesses to user pages are checked against PKRU (SDM 4.6.2).
  uaccess: 'privileged' as const,
  // __execute_only_pkey() (arch/x86/mm/pkeys.c): mm_pkey_alloc() on first use, then PKEY_DISABLE_ACCESS.
  executeOnly: Object.freeze({
    kind: 'allocated-on-first-use' as const,
    source: 'arch/x86/mm/pkeys.c __execute_only_pkey',
  }),
  signal: Object.freeze({
    frameRecord: 'XSAVE area, component 9 (PKRU)',
    // sig_prepare_pkru() writes PKRU=0 before XSAVE; update_pkru_in_sigframe() stores the interrupted value (70044df250d0).
    frameWrite: 'all-open' as const,
    // fpu__clear_user_states(): the handler runs from init_fpstate, whose PKRU is init_pkru_value.
    handler: 'init' as const,
    // restore_fpregs_from_user() (XRSTOR) loads the frame's PKRU at rt_sigreturn.
    sigreturnRestores: true,
    // "x86/pkeys: Restore altstack access in sigreturn()" (2024).
    altstackBeforeRestore: true,
    source: 'arch/x86/kernel/signal.c, arch/x86/kernel/fpu/signal.c (70044df250d0)',
  }),
  // PTRACE_GETREGSET/SETREGSET NT_X86_XSTATE (arch/x86/kernel/fpu/regset.c xstateregs_set).
  ptraceRegset: 'NT_X86_XSTATE',
  // pkey-x86.h: every case is built; expect_fault_on_read_execonly_key() reads; XRSTOR init exists.
  selftest: Object.freeze({ compiledOut: Object.freeze([]), readsExecuteOnly: true, forcesInitState: true }),
  sources: Object.freeze([
    'arch/x86/include/asm/pkeys.h',
    'arch/x86/mm/pkeys.c',
    'arch/x86/kernel/fpu/signal.c',
    'tools/testing/selftests/mm/pkey-x86.h',
  ]),
  // init_pkru_value 0x55555554: key 0 open, every other key access-disabled (arch/x86/mm/pkeys.c).
  initialRights: (space) => space.initialState(),
  // WRPKRU writes the whole register (SDM WRPKRU).
  userWrite: (_space, _current, wanted) => wanted,
  // xstateregs_set() copies the whole XSAVE buffer, PKRU included.
  ptraceWrite: (_space, _current, wanted) => wanted,
});
