import type { InjectionToken } from 'tsyringe';
import type { Denials } from './denials';
import type { DomainSpace } from './domain';
import type { RightsState } from './rights-state';

/**
 * How the kernel writes, hands over and restores the user rights register around a signal
 * handler: the architecture's mainline Linux behaviour, as data.
 */
export interface UserPkeySignalAbi {
  /** Where the interrupted register goes in the signal frame, for reports ("XSAVE PKRU", "poe_context"). */
  readonly frameRecord: string;
  /** The rights live while the kernel writes the frame: every key open, or the interrupted ones left. */
  readonly frameWrite: 'all-open' | 'interrupted';
  /** The rights the handler starts with: the init value, or the interrupted ones (inherit). */
  readonly handler: 'init' | 'interrupted';
  /** Whether rt_sigreturn loads the register from the frame (else the handler's value stays). */
  readonly sigreturnRestores: boolean;
  /** rt_sigreturn restores the altstack before the register (so a key-protected uc_stack is readable). */
  readonly altstackBeforeRestore: boolean;
  /** The Linux source of these rules. */
  readonly source: string;
}

/** What Linux's pkey selftests build on an architecture (tools/testing/selftests/mm/pkey-*.h, Makefile). */
export interface UserPkeySelftestAbi {
  /** Cases (function names) or whole files Linux does not build here, with the rule that leaves them out. */
  readonly compiledOut: readonly { readonly name: string; readonly reason: string }[];
  /** expect_fault_on_read_execonly_key() reads and expects a pkey fault (x86); it is empty elsewhere. */
  readonly readsExecuteOnly: boolean;
  /** arch_force_pkey_reg_init() puts the register in its hardware init state (x86 XRSTOR); a no-op elsewhere. */
  readonly forcesInitState: boolean;
}

/** What the execute-only mapping of mprotect(PROT_EXEC) gets. */
export type ExecuteOnlyKey =
  /** x86: a key allocated on first use and access-disabled in the caller's register. */
  | { readonly kind: 'allocated-on-first-use'; readonly source: string }
  /** POWER: a key the kernel reserves at boot and denies data access to in every register. */
  | { readonly kind: 'fixed'; readonly key: number; readonly source: string }
  /** arm64: no key; the page tables give execute-only (EPAN), the mapping keeps its key. */
  | { readonly kind: 'none'; readonly source: string };

/**
 * The user-space protection-key ABI of an architecture: what Linux's pkey_alloc(2), pkey_free,
 * pkey_mprotect, glibc's pkey_set/pkey_get, signal delivery and ptrace do there. The kernel's user
 * layer programs against this interface; each architecture plugin provides its own and registers it
 * under {@link USER_PKEY_ABI} in `register()`, so a new architecture needs no edits elsewhere.
 *
 * Rights flags use the Linux values, which are also core's {@link Deny} values: PKEY_DISABLE_ACCESS
 * 0x1, _WRITE 0x2, _EXECUTE 0x4, _READ 0x8.
 */
export interface UserPkeyAbi {
  /** The plugin name this ABI belongs to ("x86", "arm64-poe", "power"). */
  readonly arch: string;
  /** The id of the DomainSpace the syscalls program (`DomainSpaceInfo.id`, e.g. "x86.pku"). */
  readonly spaceId: string;
  /** The register user space sees ("PKRU", "POR_EL0", "AMR"). */
  readonly register: string;
  /** arch_max_pkey(): keys the syscalls accept (0..keys-1). */
  readonly keys: number;
  /** ARCH_DEFAULT_PKEY: the key every mapping has and pkey_alloc never returns. */
  readonly defaultKey: number;
  /** Keys besides the default and execute-only key that pkey_alloc never returns, with why. */
  readonly reservedKeys: readonly { readonly key: number; readonly reason: string }[];
  /** PKEY_ACCESS_MASK: the init_rights flags pkey_alloc accepts (others: -EINVAL). */
  readonly allocRights: Denials;
  /** The rights flags glibc's pkey_set accepts (others: -EINVAL). */
  readonly setRights: Denials;
  /** Whether a key's rights apply to instruction fetches (arch_vma_access_permitted's `execute`). */
  readonly keysGovernFetch: boolean;
  /** How user-space copies (copy_to_user, get_user_pages on own memory) are checked. */
  readonly uaccess: 'privileged' | 'unprivileged';
  readonly executeOnly: ExecuteOnlyKey;
  readonly signal: UserPkeySignalAbi;
  /** The ptrace regset that exposes the register (undefined: none). */
  readonly ptraceRegset: string | undefined;
  readonly selftest: UserPkeySelftestAbi;
  /** The Linux sources each rule follows, for docs and reports. */
  readonly sources: readonly string[];
  /** The register a new process starts with (init_pkru_value, POR_EL0_INIT, default AMR/IAMR). */
  initialRights(space: DomainSpace): RightsState;
  /** What a user-mode write of `wanted` leaves in the register (POWER: only UAMOR-enabled AMR bits change). */
  userWrite(space: DomainSpace, current: RightsState, wanted: RightsState): RightsState;
  /** What a tracer's write of `wanted` through the regset leaves in the tracee's saved register. */
  ptraceWrite(space: DomainSpace, current: RightsState, wanted: RightsState): RightsState;
}

/** Declared by core because architectures provide it; the kernel's user layer consumes it. */
export const USER_PKEY_ABI: InjectionToken<UserPkeyAbi> = Symbol.for('pkeysim.UserPkeyAbi');
