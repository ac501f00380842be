/**
 * The arm64 user-space protection-key ABI (FEAT_S1POE, POR_EL0): what mainline Linux's pkey
 * syscalls, glibc and signal delivery do there. Each rule names the Linux source it follows.
 */
import { Deny, type UserPkeyAbi } from '@pkeysim/core';

/** The arm64 user-space protection-key ABI (POR_EL0), as mainline Linux implements it. */
export const arm64PoeUserPkeyAbi: UserPkeyAbi = Object.freeze<UserPkeyAbi>({
  arch: 'arm64-poe',
  spaceId: 'arm64.por_el0',
  register: 'POR_EL0',
  // arch_max_pkey() 8: POIndex is 3 bits (arch/arm64/include/asm/pkeys.h).
  keys: 8,
  // pkey 0 allocated at mm init (arch/arm64/include/asm/mmu_context.h init_new_context).
  defaultKey: 0,
  reservedKeys: Object.freeze([]),
  // PKEY_ACCESS_MASK adds PKEY_DISABLE_EXECUTE 0x4 and PKEY_DISABLE_READ 0x8 (arch/arm64/include/uapi/asm/mman.h).
  allocRights: Deny.Access | Deny.Write | Deny.Execute | Deny.Read,
  // glibc sysdeps/unix/sysv/linux/aarch64/pkey_set.c: the same four flags.
  setRights: Deny.Access | Deny.Write | Deny.Execute | Deny.Read,
  // por_el0_allows_pkey(pkey, write, execute) checks X too (arch/arm64/mm/fault.c, asm/mmu_context.h).
  keysGovernFetch: true,
  // uaccess uses LDTR/STTR, checked as EL0 accesses against POR_EL0 (arch/arm64/include/asm/uaccess.h).
  uaccess: 'unprivileged' as const,
  // execute_only_pkey() returns -1: "Execute-only mappings are handled by EPAN/FEAT_PAN3".
  executeOnly: Object.freeze({ kind: 'none' as const, source: 'arch/arm64/include/asm/pkeys.h execute_only_pkey' }),
  signal: Object.freeze({
    frameRecord: 'poe_context record (POE_MAGIC) in the sigframe',
    // save_reset_user_access_state(): POR_EL0 = RWX for every key while the frame is written.
    frameWrite: 'all-open' as const,
    // set_handler_user_access_state(): POR_EL0 = POR_EL0_INIT for the handler.
    handler: 'init' as const,
    // restore_poe_context() + restore_user_access_state() at rt_sigreturn, after restore_altstack().
    sigreturnRestores: true,
    altstackBeforeRestore: true,
    source: 'arch/arm64/kernel/signal.c ("arm64: signal: Improve POR_EL0 handling to avoid uaccess failures")',
  }),
  // PTRACE_GETREGSET/SETREGSET NT_ARM_POE (arch/arm64/kernel/ptrace.c poe_get/poe_set).
  ptraceRegset: 'NT_ARM_POE',
  // pkey-arm64.h: expect_fault_on_read_execonly_key() is empty; arch_force_pkey_reg_init() is x86 only.
  // Both protection_keys.c and pkey_sighandler_tests.c are built (Makefile, "selftests/mm: Enable
  // pkey_sighandler_tests on arm64"); test_ptrace_modifies_pkru has an aarch64 version (NT_ARM_POE).
  selftest: Object.freeze({ compiledOut: Object.freeze([]), readsExecuteOnly: false, forcesInitState: false }),
  sources: Object.freeze([
    'arch/arm64/include/asm/pkeys.h',
    'arch/arm64/include/uapi/asm/mman.h',
    'arch/arm64/mm/mmu.c arch_set_user_pkey_access',
    'arch/arm64/kernel/signal.c',
    'tools/testing/selftests/mm/pkey-arm64.h',
  ]),
  // POR_EL0_INIT: key 0 RWX, every other key no access (arch/arm64/include/asm/por.h).
  initialRights: (space) => space.initialState(),
  // MSR POR_EL0 at EL0 writes the whole register (CPACR_EL1.E0POE set by cpu_enable_poe).
  userWrite: (_space, _current, wanted) => wanted,
  // poe_set() stores the whole value in thread.por_el0.
  ptraceWrite: (_space, _current, wanted) => wanted,
});
