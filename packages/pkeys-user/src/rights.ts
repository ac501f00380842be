import {
  Deny,
  type Denials,
  type DomainSpace,
  type Machine,
  Privilege,
  type RightsState,
  type UserPkeyAbi,
} from '@pkeysim/core';
import { KernelError } from '@pkeysim/kernel';

/**
 * The user-key space when the kernel switched it on for every CPU (x86: CPUID PKU and CR4.PKE,
 * i.e. X86_FEATURE_OSPKE), else undefined: the kernel then behaves as one without pkeys.
 */
export function enabledUserKeySpace(machine: Machine): DomainSpace | undefined {
  const space = machine.domainSpace(Privilege.User);
  if (!space || space.info.governs === Privilege.Supervisor) return undefined;
  for (let cpu = 0; cpu < machine.cpuCount; cpu++) if (!space.enabled(cpu)) return undefined;
  return space;
}

/** The number of keys the space has (arch_max_pkey()); it must be small enough for a bitmap. */
export function keyCount(space: DomainSpace | undefined): number {
  if (!space) return 1;
  const n = space.info.domains;
  if (!Number.isInteger(n) || n < 1 || n > 32) {
    throw new KernelError('EINVAL', `user keys: ${space.info.id} has ${n} domains; pkey syscalls need 1..32`);
  }
  return n;
}

/** Every key open: what 70044df250d0's sig_prepare_pkru() writes (PKRU = 0) before the frame is saved. */
export function allOpen(space: DomainSpace): RightsState {
  let state = space.initialState();
  for (let key = 0; key < keyCount(space); key++) state = space.withDenials(state, key, Deny.None);
  return state;
}

/**
 * pkey_alloc's init_rights (PKEY_DISABLE_*) as the space's denials: core's Deny flags have the Linux
 * values (ACCESS 0x1, WRITE 0x2, EXECUTE 0x4, READ 0x8), so the flags the ABI accepted map one to one.
 */
export function denialsOfInitRights(rights: number): Denials {
  return rights & (Deny.Access | Deny.Write | Deny.Execute | Deny.Read);
}

/**
 * The init PKRU value: the space's own unless configured. Rights on the default key (AD/WD for key
 * 0) are refused (arch/x86/mm/pkeys.c init_pkru_write_file; the init_pkru= boot parameter does not
 * check, pkeysim refuses there too so a bad value is a clear error, not a process that cannot run).
 */
export function resolveInitRights(
  space: DomainSpace | undefined,
  configured: RightsState | undefined,
  abi?: UserPkeyAbi,
): RightsState | undefined {
  if (!space) return undefined;
  if (configured === undefined) return abi ? abi.initialRights(space) : space.initialState();
  let denied: Denials;
  try {
    denied = space.denialsOf(configured, space.info.defaultDomain);
  } catch (error) {
    throw new KernelError('EINVAL', `init_pkru: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (denied !== Deny.None) {
    throw new KernelError(
      'EINVAL',
      `init_pkru ${space.format(configured)} denies access to key ${space.info.defaultDomain}; rights on the default key are refused`,
    );
  }
  return configured;
}

/**
 * The 2016 "lockdown" alternative (Lutomirski; Molnar: save, clear and restore all but the
 * 'global' keys): every key access-disabled except the global ones, which keep the interrupted
 * rights, and the execute-only key, which stays as it is.
 */
export function lockedDown(
  space: DomainSpace,
  interrupted: RightsState,
  globalKeys: readonly number[],
  executeOnlyKey: number,
): RightsState {
  let state = interrupted;
  for (let key = 0; key < keyCount(space); key++) {
    if (globalKeys.includes(key) || key === executeOnlyKey) continue;
    state = space.withDenials(state, key, Deny.Access);
  }
  return state;
}

/** Every key's rights bits cleared (access allowed) except the last `kept` keys, which keep `interrupted`'s. */
export function clearedExceptLast(space: DomainSpace, interrupted: RightsState, kept: number): RightsState {
  let state = interrupted;
  const count = keyCount(space);
  for (let key = 0; key < count - kept; key++) state = space.withDenials(state, key, Deny.None);
  return state;
}
