/**
 * The numbers Machine.access returns. The low four bits name the neutral cause; an architecture may
 * put its own bits above them (shifted by FAULT_ARCH_SHIFT). Zero is ACCESS_OK.
 */
import type { FaultCause } from '@pkeysim/core';

/** The architecture-neutral fault cause in the low four bits of a fault code. */
export const FaultKind = {
  NotPresent: 1,
  Permission: 2,
  Domain: 3,
  PrivilegeGuard: 4,
  Reserved: 5,
} as const;
/** One of the {@link FaultKind} values. */
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

/** Mask of the {@link FaultKind} bits of a fault code. */
export const FAULT_KIND_MASK = 0xf;
/** Where an architecture's own bits start in a fault code. */
export const FAULT_ARCH_SHIFT = 4;

const CAUSES: readonly (FaultCause | undefined)[] = [
  undefined,
  'not-present',
  'permission',
  'domain',
  'privilege-guard',
  'reserved',
];

/** The core FaultCause of a nonzero access result. */
export function faultCauseOf(code: number): FaultCause {
  const cause = CAUSES[code & FAULT_KIND_MASK];
  if (cause === undefined) throw new RangeError(`fault code 0x${code.toString(16)} has no cause in its low four bits`);
  return cause;
}
