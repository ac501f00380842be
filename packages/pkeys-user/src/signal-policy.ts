import type { DomainSpace, RightsState, UserPkeyAbi } from '@pkeysim/core';
import { KernelError } from '@pkeysim/kernel';
import { allOpen, clearedExceptLast, lockedDown } from './rights';

/**
 * What the kernel does with a thread's user-key rights (PKRU) when it delivers a signal.
 * - mainline: Linux since 2024 (70044df250d0 "x86/pkeys: Update PKRU to enable all pkeys before
 *   XSAVE"): every key open while the frame is written, so a key-protected sigaltstack works; the
 *   handler runs with init_pkru; sigreturn restores the PKRU saved in the frame, after the altstack
 *   ("x86/pkeys: Restore altstack access in sigreturn()").
 * - pre-2024: Linux 4.x..6.11: the frame is written with the interrupted PKRU, so a frame on a
 *   stack whose key that PKRU denies cannot be written and the process is killed (force_sigsegv).
 * - inherit: the 2016 "most permissive" scheme (Hansen): the handler runs with the interrupted PKRU.
 * - lockdown: the 2016 alternative (Lutomirski; Molnar): the handler runs with every key
 *   access-disabled except chosen 'global' keys (and the execute-only key), saved and restored.
 * - clear-14+2: Molnar's exact proposal: save, clear (every right bit off, as the 2016 kernel
 *   cleared PKRU) and restore the first 14 keys, leave the last 2 ('global') keys as the
 *   interrupted code had them.
 * - cleared-2016: Linux 4.6..4.8 as merged in 2016: the handler starts from the XSAVE init state,
 *   PKRU = 0 (every key open), the frame written with the interrupted PKRU.
 * - amd-window: mainline on an AMD CPU between 70044df250d0 (6.12) and ae6012d72fa6: sigreturn's
 *   XRSTOR finds XSTATE_BV[PKRU] = 0 and loads PKRU's init value, 0, not the frame's.
 */
export type SignalPolicyName =
  'mainline' | 'pre-2024' | 'inherit' | 'lockdown' | 'clear-14+2' | 'cleared-2016' | 'amd-window';

/** Every signal policy name. */
export const SIGNAL_POLICIES: readonly SignalPolicyName[] = [
  'mainline',
  'pre-2024',
  'inherit',
  'lockdown',
  'clear-14+2',
  'cleared-2016',
  'amd-window',
];

/** Molnar's "leave alone the two 'global' indices" (July 2016): how many keys, the last ones, stay. */
export const CLEAR_14_2_GLOBAL_KEYS = 2;

/** The rights the three moments of a delivery use; one object per policy, chosen once. */
export interface SignalPolicy {
  readonly name: SignalPolicyName;
  /** The live rights while the kernel writes the frame (undefined: leave the interrupted rights). */
  frameWriteRights(space: DomainSpace): RightsState | undefined;
  /** The rights the handler starts with. */
  handlerRights(space: DomainSpace, interrupted: RightsState, init: RightsState, executeOnlyKey: number): RightsState;
  /** sigreturn reads the altstack settings before restoring PKRU (the 2024 fix) or after (before it). */
  readonly altstackBeforePkru: boolean;
  /** sigreturn loads the rights saved in the frame (false on POWER: the handler's AMR stays). */
  readonly restoresRights: boolean;
  /**
   * sigreturn's XRSTOR loads the register's hardware init value (every key open) instead of the
   * frame's: XSTATE_BV[PKRU] was 0 in the frame (the AMD window, ae6012d72fa6).
   */
  readonly sigreturnLoadsInit: boolean;
}

/**
 * 'mainline' is the architecture's own behaviour, from its pkey ABI: x86 (70044df250d0) and arm64
 * ("arm64: signal: Improve POR_EL0 handling") open every key for the frame, start the handler at the
 * init value and restore the frame's value; POWER leaves the AMR alone throughout.
 */
function mainlineOf(abi: UserPkeyAbi): SignalPolicy {
  const s = abi.signal;
  return {
    name: 'mainline',
    frameWriteRights: (space) => (s.frameWrite === 'all-open' ? allOpen(space) : undefined),
    handlerRights: (_space, interrupted, init) => (s.handler === 'init' ? init : interrupted),
    altstackBeforePkru: s.altstackBeforeRestore,
    restoresRights: s.sigreturnRestores,
    sigreturnLoadsInit: false,
  };
}

/**
 * A policy from what sets it apart; the rest is what most of them share: the frame written with the
 * interrupted rights, PKRU restored from the frame first and the altstack read after it (the order
 * before "x86/pkeys: Restore altstack access in sigreturn()").
 */
function policyOf(
  name: SignalPolicyName,
  own: Pick<SignalPolicy, 'handlerRights'> & Partial<Omit<SignalPolicy, 'name' | 'handlerRights'>>,
): SignalPolicy {
  return {
    name,
    frameWriteRights: () => undefined,
    altstackBeforePkru: false,
    restoresRights: true,
    sigreturnLoadsInit: false,
    ...own,
  };
}

/** The policy object for `name`: `lockdownGlobalKeys` are the global keys lockdown handles, `abi` gives an architecture's mainline behaviour. */
export function signalPolicy(
  name: SignalPolicyName,
  lockdownGlobalKeys: readonly number[] = [0],
  abi?: UserPkeyAbi,
): SignalPolicy {
  switch (name) {
    case 'mainline':
      if (abi) return mainlineOf(abi);
      return policyOf(name, {
        // sig_prepare_pkru(): write_pkru(0) before XSAVE into the frame (70044df250d0).
        frameWriteRights: (space) => allOpen(space),
        // fpu__clear_user_states(): the handler starts from init_fpstate, whose PKRU is init_pkru.
        handlerRights: (_space, _interrupted, init) => init,
        altstackBeforePkru: true,
      });
    case 'amd-window':
      return policyOf(name, {
        // sig_prepare_pkru() wrote PKRU = 0 and AMD's init tracker marked PKRU as in its init state.
        frameWriteRights: (space) => allOpen(space),
        handlerRights: (_space, _interrupted, init) => init,
        altstackBeforePkru: true,
        // ae6012d72fa6 ("x86/pkeys: Ensure updated PKRU value is XRSTOR'd"): before it, XSAVE stored
        // XSTATE_BV[PKRU] = 0, so XRSTOR ignored update_pkru_in_sigframe()'s value and loaded 0.
        sigreturnLoadsInit: true,
      });
    case 'cleared-2016':
      // Linux 4.6 handle_signal(): fpu__clear() loads init_fpstate, whose PKRU is XSAVE's init 0
      // (until "x86/pkeys: Default to a restrictive init PKRU", Hansen, 2016).
      return policyOf(name, { handlerRights: (space) => allOpen(space) });
    case 'clear-14+2':
      // Molnar, July 2016: "save+clear+restore the first 14 pkey indices, and to leave alone the
      // two 'global' indices"; sigreturn restores all 16 from the frame.
      return policyOf(name, {
        handlerRights: (space, interrupted) => clearedExceptLast(space, interrupted, CLEAR_14_2_GLOBAL_KEYS),
      });
    case 'pre-2024':
      // Linux 4.9..6.11: init_pkru_value in the handler, the frame written with the interrupted PKRU.
      return policyOf(name, { handlerRights: (_space, _interrupted, init) => init });
    case 'inherit':
      // Hansen, July 2016: the most permissive scheme, the handler keeps the interrupted rights.
      return policyOf(name, { handlerRights: (_space, interrupted) => interrupted });
    case 'lockdown':
      // Lutomirski, July 2016: "maximally locked down ... except for the PROT_EXEC key" (and globals).
      return policyOf(name, {
        handlerRights: (space, interrupted, _init, executeOnlyKey) =>
          lockedDown(space, interrupted, lockdownGlobalKeys, executeOnlyKey),
      });
    default:
      throw new KernelError(
        'EINVAL',
        `signal policy must be one of ${SIGNAL_POLICIES.join(', ')}, got ${JSON.stringify(name as unknown)}`,
      );
  }
}
