/**
 * Rights as Linux states them (Deny = PKEY_DISABLE_*) and the Perm<m> fields of POR_ELx: the one
 * place where denials and overlay values are converted.
 */
import { Deny, type Denials } from '@pkeysim/core';
import { POE_FIELD_MASK, POE_R, POE_RWX, POE_W, POE_X, POR_BITS_PER_INDEX } from './registers';

/** Perm<index> of a POR_ELx low word; reserved values (8..15) read as no access. */
export function overlayField(porLo: number, index: number): number {
  const value = (porLo >>> (POR_BITS_PER_INDEX * index)) & POE_FIELD_MASK;
  return value > POE_RWX ? 0 : value;
}

/** A copy of the POR_ELx low word with Perm<index> replaced. */
export function withOverlayField(porLo: number, index: number, value: number): number {
  const shift = POR_BITS_PER_INDEX * index;
  return ((porLo & ~(POE_FIELD_MASK << shift)) | (value << shift)) >>> 0;
}

/** The overlay value for `denials` (Linux arch_set_user_pkey_access, arch/arm64/mm/mmu.c). */
export function overlayOfDenials(denials: Denials): number {
  let perm = POE_RWX;
  if ((denials & Deny.Write) !== 0) perm &= ~POE_W;
  if ((denials & Deny.Access) !== 0) perm &= ~(POE_R | POE_W);
  if ((denials & Deny.Read) !== 0) perm &= ~POE_R;
  if ((denials & Deny.Execute) !== 0) perm &= ~POE_X;
  return perm;
}

/** The denials an overlay value stands for (the inverse of {@link overlayOfDenials}, normalised). */
export function denialsOfOverlay(perm: number): Denials {
  const r = (perm & POE_R) !== 0;
  const w = (perm & POE_W) !== 0;
  const x = (perm & POE_X) !== 0;
  const data = !r && !w ? Deny.Access : !w ? Deny.Write : !r ? Deny.Read : Deny.None;
  return data | (x ? 0 : Deny.Execute);
}
