/**
 * The AMR/IAMR/UAMOR bit positions of a key, on 64-bit registers held as (hi, lo) u32 words, and
 * the conversions between Linux denials and the bits: the one place these rules live.
 */
import { Deny, type Denials } from '@pkeysim/core';
import {
  AMR_RD,
  AMR_WR,
  IAMR_EX,
  KEY_DEFAULT,
  KEY_EXECUTE_ONLY,
  KEY_KERNEL,
  KEY_RESERVED_ISA,
  POWER_KEYS,
} from './registers';

/** pkeyshift(pkey) = 64 - 2*(pkey+1) = 2*(31-pkey) (Linux pkeys.c). */
export function keyShift(key: number): number {
  return 2 * (31 - key);
}

/** The two register bits of `key` from a (hi, lo) register. */
export function keyBits(hi: number, lo: number, key: number): number {
  const shift = keyShift(key);
  return ((shift >= 32 ? hi >>> (shift - 32) : lo >>> shift) & 3) >>> 0;
}

/** A copy of (hi, lo) with `key`'s two bits replaced. */
export function withKeyBits(hi: number, lo: number, key: number, bits: number): [number, number] {
  const shift = keyShift(key);
  if (shift >= 32) {
    const s = shift - 32;
    return [((hi & ~(3 << s)) | (bits << s)) >>> 0, lo >>> 0];
  }
  return [hi >>> 0, ((lo & ~(3 << shift)) | (bits << shift)) >>> 0];
}

/** Denials of a key from its AMR bits and IAMR bit. */
export function denialsOfBits(amrBits: number, iamrBits: number): Denials {
  const data =
    (amrBits & (AMR_RD | AMR_WR)) === (AMR_RD | AMR_WR)
      ? Deny.Access
      : (amrBits & AMR_WR) !== 0
        ? Deny.Write
        : (amrBits & AMR_RD) !== 0
          ? Deny.Read
          : Deny.None;
  return data | ((iamrBits & IAMR_EX) !== 0 ? Deny.Execute : 0);
}

/** AMR bits of `denials` (Linux __arch_set_user_pkey_access; read-only-deny is the ISA's AMR load-disable). */
export function amrBitsOf(denials: Denials): number {
  if ((denials & Deny.Access) !== 0) return AMR_RD | AMR_WR;
  return ((denials & Deny.Write) !== 0 ? AMR_WR : 0) | ((denials & Deny.Read) !== 0 ? AMR_RD : 0);
}

/** IAMR bits of `denials`: execute-disable when they deny execute. */
export function iamrBitsOf(denials: Denials): number {
  return (denials & Deny.Execute) !== 0 ? IAMR_EX : 0;
}

/** The boot values Linux computes in pkey_early_init_devtree (v5.11+), for `usableKeys` keys. */
export interface PowerDefaults {
  readonly amr: readonly [number, number];
  readonly iamr: readonly [number, number];
  readonly uamor: readonly [number, number];
}

/** The boot AMR, IAMR and UAMOR values Linux computes for `usableKeys` keys (see {@link PowerDefaults}). */
export function linuxDefaults(usableKeys: number): PowerDefaults {
  // default_amr = ~0x0UL and default_iamr = 0x5555555555555555UL: every key denied.
  let amr: [number, number] = [0xffffffff, 0xffffffff];
  let iamr: [number, number] = [0x55555555, 0x55555555];
  // default_uamor = ~0x0UL: "Allow all keys to be modified by default".
  let uamor: [number, number] = [0xffffffff, 0xffffffff];
  const set = (reg: [number, number], key: number, bits: number): [number, number] =>
    withKeyBits(reg[0], reg[1], key, bits);
  const clear = (reg: [number, number], key: number, mask: number): [number, number] =>
    set(reg, key, keyBits(reg[0], reg[1], key) & ~mask);
  // execute_only_key: deny R/W in AMR, allow X in IAMR, user may not change it.
  amr = set(amr, KEY_EXECUTE_ONLY, AMR_RD | AMR_WR);
  iamr = clear(iamr, KEY_EXECUTE_ONLY, IAMR_EX);
  uamor = set(uamor, KEY_EXECUTE_ONLY, 0);
  // Key 3 (KUAP/KUEP): open in the default AMR/IAMR so copy_to/from_user keep working; not user-changeable.
  amr = set(amr, KEY_KERNEL, 0);
  iamr = clear(iamr, KEY_KERNEL, IAMR_EX);
  uamor = set(uamor, KEY_KERNEL, 0);
  // "Allow access for only key 0. And prevent any other modification."
  amr = set(amr, KEY_DEFAULT, 0);
  iamr = clear(iamr, KEY_DEFAULT, IAMR_EX);
  uamor = set(uamor, KEY_DEFAULT, 0);
  // Key 1 is reserved by the ISA's programming note.
  uamor = set(uamor, KEY_RESERVED_ISA, 0);
  // Keys the OS cannot use (4 KiB pages: only 8) are reserved and not user-changeable.
  for (let key = usableKeys; key < POWER_KEYS; key++) uamor = set(uamor, key, 0);
  return { amr, iamr, uamor };
}
