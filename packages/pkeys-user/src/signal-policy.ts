import type { DomainSpace, RightsState, UserPkeyAbi } from '@pkeysim/core';
import { KernelError } from '@pkeysim/kernel';
import { allOpen, lockedDown } from './rights';

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
 */
export type SignalPolicyName = 'mainline' | 'pre-2024' | 'inherit' | 'lockdown';

/** Every signal policy name. */
export const SIGNAL_POLICIES: readonly SignalPolicyName[] = ['mainline', 'pre-2024', 'inherit', 'lockdown'];

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
      return {
        name,
        // sig_prepare_pkru(): write_pkru(0) before XSAVE into the frame (70044df250d0).
        frameWriteRights: (space) => allOpen(space),
        // fpu__clear_user_states(): the handler starts from init_fpstate, whose PKRU is init_pkru.
        handlerRights: (_space, _interrupted, init) => init,
        altstackBeforePkru: true,
        restoresRights: true,
      };
    case 'pre-2024':
      return {
        name,
        frameWriteRights: () => undefined,
        handlerRights: (_space, _interrupted, init) => init,
        altstackBeforePkru: false,
        restoresRights: true,
      };
    case 'inherit':
      return {
        name,
        frameWriteRights: () => undefined,
        handlerRights: (_space, interrupted) => interrupted,
        altstackBeforePkru: false,
        restoresRights: true,
      };
    case 'lockdown':
      return {
        name,
        frameWriteRights: () => undefined,
        handlerRights: (space, interrupted, _init, executeOnlyKey) =>
          lockedDown(space, interrupted, lockdownGlobalKeys, executeOnlyKey),
        altstackBeforePkru: false,
        restoresRights: true,
      };
    default:
      throw new KernelError(
        'EINVAL',
        `signal policy must be one of ${SIGNAL_POLICIES.join(', ')}, got ${JSON.stringify(name as unknown)}`,
      );
  }
}
