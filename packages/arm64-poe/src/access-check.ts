/**
 * The stage-1 permission check with FEAT_S1POE, in the order Arm ARM AArch64.S1ComputePermissions
 * applies it and KVM's arch/arm64/kvm/at.c compute_s1_permissions transcribes it:
 *   1. base permissions of the descriptor (AP, PXN, UXN), for EL1 and EL0;
 *   2. the overlays: POR_EL1 for EL1 accesses when TCR2_EL1.POE, POR_EL0 for EL0 accesses when
 *      TCR2_EL1.E0POE; each only REMOVES rights (R, W, X are ANDed) (compute_s1_overlay_permissions);
 *   3. WXN (R_QXXPC, R_NPBXC): with a valid overlay, an overlay granting X drops W; without one,
 *      W drops X;
 *   4. PAN after the overlay: EL1 data accesses fault on pages EL0 can still read or write.
 * Rights are read from the registers at every access (Arm ARM: POR values are not cached in TLBs).
 */
import { AccessKind } from '@pkeysim/core';
import {
  FaultKind,
  TF_PRIV_EXEC,
  TF_PRIV_READ,
  TF_PRIV_WRITE,
  TF_USER_EXEC,
  TF_USER_READ,
  TF_USER_WRITE,
} from '@pkeysim/machine-kit';
import { POE_R, POE_W, POE_X } from './registers';

const R = 1;
const W = 2;
const X = 4;

/** No overlay in force for this translation regime. */
export const OVERLAY_OFF = -1;

/** R/W/X (bits 1, 2, 4) allowed to the accessing EL, or to EL0 when `el0`, after overlay and WXN. */
function effective(base: number, overlay: number, wxn: boolean): number {
  let rights = base;
  if (overlay !== OVERLAY_OFF) {
    rights &= ((overlay & POE_R) !== 0 ? R : 0) | ((overlay & POE_W) !== 0 ? W : 0) | ((overlay & POE_X) !== 0 ? X : 0);
    // R_QXXPC / R_NPBXC: overlay valid and X granted -> W removed.
    if (wxn && (rights & X) !== 0) rights &= ~W;
  } else if (wxn && (rights & W) !== 0) {
    rights &= ~X; // plain WXN: writable implies execute-never
  }
  return rights;
}

function needed(kind: AccessKind): number {
  return kind === AccessKind.Read ? R : kind === AccessKind.Write ? W : X;
}

/**
 * 0 when allowed; otherwise FaultKind.Permission (base permissions, WXN), PrivilegeGuard (PAN) or
 * Domain (the overlay removed the right: reported with ISS2.Overlay). `privOverlay` / `userOverlay`
 * are the Perm<POIndex> of POR_EL1 / POR_EL0, or OVERLAY_OFF when TCR2_EL1.POE / E0POE is clear.
 */
export function checkPoeAccess(
  flags: number,
  kind: AccessKind,
  el0: boolean,
  privOverlay: number,
  userOverlay: number,
  wxn: boolean,
  pan: boolean,
): number {
  const userBase =
    ((flags & TF_USER_READ) !== 0 ? R : 0) |
    ((flags & TF_USER_WRITE) !== 0 ? W : 0) |
    ((flags & TF_USER_EXEC) !== 0 ? X : 0);
  const need = needed(kind);
  if (el0) {
    if ((effective(userBase, userOverlay, wxn) & need) !== 0) return 0;
    return (effective(userBase, OVERLAY_OFF, wxn) & need) !== 0 ? FaultKind.Domain : FaultKind.Permission;
  }
  const privBase =
    ((flags & TF_PRIV_READ) !== 0 ? R : 0) |
    ((flags & TF_PRIV_WRITE) !== 0 ? W : 0) |
    ((flags & TF_PRIV_EXEC) !== 0 ? X : 0);
  const data = kind !== AccessKind.Fetch;
  // PAN is evaluated on what EL0 may do after ITS overlay (KVM: pan = PAN && (ur || uw), computed last).
  const userData = effective(userBase, userOverlay, wxn) & (R | W);
  const panBlocks = pan && data && userData !== 0;
  if (!panBlocks && (effective(privBase, privOverlay, wxn) & need) !== 0) return 0;
  const baseAllows = (effective(privBase, OVERLAY_OFF, wxn) & need) !== 0;
  if (!baseAllows) return FaultKind.Permission;
  return panBlocks ? FaultKind.PrivilegeGuard : FaultKind.Domain;
}
