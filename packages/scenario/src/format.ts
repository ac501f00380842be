import { Deny, type Denials } from '@pkeysim/core';
import { formatAddress, type Kernel } from '@pkeysim/kernel';
import type { RightsName } from './fields';

/** The denials each scenario rights name stands for (pks_update_protection's prot values). */
export const RIGHTS_DENIALS: Record<RightsName, Denials> = { rw: Deny.None, ro: Deny.Write, none: Deny.Access };

/** An address as the log shows it. */
export function hex(address: number): string {
  return formatAddress(address);
}

/** The scenario name of the rights `state` gives `key` ("rw" without supervisor keys: nothing is checked). */
export function rightsNameOf(kernel: Kernel, state: readonly number[], key: number): RightsName {
  const space = kernel.space;
  if (!space || !kernel.supported || state.length === 0) return 'rw';
  return denialsName(space.denialsOf(state, key));
}

export function denialsName(d: number): RightsName {
  return d & Deny.Access ? 'none' : d & Deny.Write ? 'ro' : 'rw';
}

/** Two byte arrays hold the same bytes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Up to 16 bytes as hex pairs, with the total when there are more. */
export function hexBytes(bytes: Uint8Array): string {
  const shown = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > 16 ? `${shown} ... (${bytes.length} bytes)` : shown;
}
