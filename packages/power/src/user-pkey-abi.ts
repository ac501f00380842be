/**
 * The POWER user-space protection-key ABI (hash MMU storage keys, AMR/IAMR/UAMOR): what mainline
 * Linux's pkey syscalls, glibc and signal delivery do there. Each rule names the Linux source it follows.
 */
import { Deny, DomainError, type DomainSpace, type RightsState, rightsState, type UserPkeyAbi } from '@pkeysim/core';
import { linuxDefaults } from './keys';
import { KEY_EXECUTE_ONLY, KEY_KERNEL, KEY_RESERVED_ISA } from './registers';

/**
 * A user-mode mtspr AMR: AMR <- (AMR & ~UAMOR) | (RS & UAMOR) with Linux's default_uamor, and the
 * IAMR unchanged because it is privileged (Power ISA v3.1 Book III, AMR and UAMOR). States are
 * [AMR hi, AMR lo, IAMR hi, IAMR lo] (domain-space.ts); the UAMOR words are computed once per ABI.
 */
function amrWriteUnderUamor(
  keys: number,
): (space: DomainSpace, current: RightsState, wanted: RightsState) => RightsState {
  const [uHi, uLo] = linuxDefaults(keys).uamor;
  return (_space, current, wanted) => {
    if (current.length !== 4 || wanted.length !== 4)
      throw new DomainError('invalid', 'POWER rights states are four u32 words [AMR hi, AMR lo, IAMR hi, IAMR lo]');
    return rightsState(
      ((current[0] & ~uHi) | (wanted[0] & uHi)) >>> 0,
      ((current[1] & ~uLo) | (wanted[1] & uLo)) >>> 0,
      current[2],
      current[3],
    );
  };
}

/** The ABI for a machine with `keys` storage keys (32 with 64 KiB Linux pages, 8 with 4 KiB). */
export function powerUserPkeyAbi(keys: number): UserPkeyAbi {
  const userWrite = amrWriteUnderUamor(keys);
  return Object.freeze<UserPkeyAbi>({
    arch: 'power',
    spaceId: 'power.amr',
    register: 'AMR',
    // arch_max_pkey() = num_pkey: pkeys_total capped by the PTE key bits (arch/powerpc/mm/book3s64/pkeys.c).
    keys,
    defaultKey: 0,
    // reserved_allocation_mask (pkey_early_init_devtree, arch/powerpc/mm/book3s64/pkeys.c).
    reservedKeys: Object.freeze([
      Object.freeze({ key: KEY_RESERVED_ISA, reason: 'key 1: Power ISA 3.0 programming note, not to be used' }),
      Object.freeze({ key: KEY_KERNEL, reason: 'key 3: the kernel KUAP/KUEP key on hash (v5.11+)' }),
    ]),
    // PKEY_ACCESS_MASK adds PKEY_DISABLE_EXECUTE 0x4 (arch/powerpc/include/asm/pkeys.h).
    allocRights: Deny.Access | Deny.Write | Deny.Execute,
    // glibc sysdeps/unix/sysv/linux/powerpc/pkey_set.c writes the AMR only: rights > 3 -> EINVAL.
    setRights: Deny.Access | Deny.Write,
    // pkey_access_permitted(pkey, write, execute) checks the IAMR for fetches (book3s64/pkeys.c).
    keysGovernFetch: true,
    // The kernel reaches user memory under the thread's AMR ("powerpc/book3s64/kuap: Restrict access
    // to userspace based on userspace AMR", v5.11).
    uaccess: 'privileged' as const,
    // execute_only_key = 2, reserved at boot, AMR RD|WR and IAMR open in default_amr/default_iamr.
    executeOnly: Object.freeze({
      kind: 'fixed' as const,
      key: KEY_EXECUTE_ONLY,
      source: 'arch/powerpc/mm/book3s64/pkeys.c execute_only_key',
    }),
    signal: Object.freeze({
      frameRecord: 'none read back: restore_sigcontext() never loads the AMR/IAMR',
      // Nothing touches the AMR on delivery: the frame is written and the handler runs under the
      // interrupted AMR, and the AMR the handler leaves is the one user space returns to.
      frameWrite: 'interrupted' as const,
      handler: 'interrupted' as const,
      sigreturnRestores: false,
      altstackBeforeRestore: true,
      source: 'arch/powerpc/kernel/signal_64.c setup_sigcontext/restore_sigcontext',
    }),
    // NT_PPC_PKEY: AMR, IAMR and UAMOR readable; only the AMR writable, masked by default_uamor
    // (arch/powerpc/kernel/ptrace/ptrace-view.c pkey_set).
    ptraceRegset: 'NT_PPC_PKEY',
    // pkey-powerpc.h and the Makefile: expect_fault_on_read_execonly_key() is empty (the handler cannot
    // open the execute-only key); no arch_force_pkey_reg_init().
    selftest: Object.freeze({
      compiledOut: Object.freeze([
        Object.freeze({
          name: 'test_ptrace_modifies_pkru',
          reason: 'protection_keys.c: #if defined(__i386__) || defined(__x86_64__) || defined(__aarch64__)',
        }),
        Object.freeze({
          name: 'pkey_sighandler_tests.c',
          reason: 'tools/testing/selftests/mm/Makefile builds it for x86_64 and arm64 only',
        }),
      ]),
      readsExecuteOnly: false,
      forcesInitState: false,
    }),
    sources: Object.freeze([
      'arch/powerpc/include/asm/pkeys.h',
      'arch/powerpc/mm/book3s64/pkeys.c',
      'arch/powerpc/kernel/signal_64.c',
      'arch/powerpc/kernel/ptrace/ptrace-view.c',
      'tools/testing/selftests/mm/pkey-powerpc.h',
    ]),
    // default_amr / default_iamr: key 0 open, the execute-only key executable, every other key denied.
    initialRights: (space) => space.initialState(),
    userWrite,
    ptraceWrite: userWrite,
  });
}
