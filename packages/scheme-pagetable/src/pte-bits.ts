import { Deny, type Denials } from '@pkeysim/core';
import { E_P, E_RW, E_XD_HI } from '@pkeysim/x86';

/** A page's own permissions, as DomainMembers keeps them: bit 0 writable, bit 1 executable. */
export const BASE_WRITABLE = 1;
export const BASE_EXECUTABLE = 2;

/**
 * The low word of a domain page's PTE carrying `denials` on top of the page's own permissions
 * (`base`). PROT_NONE-like: P=0 keeps the frame in the entry (Linux keeps the pfn of a
 * _PAGE_PROTNONE PTE); R/W only where the mapping itself is writable (SDM vol. 3, 4.6).
 */
export function domainPteLo(lo: number, base: number, denials: Denials): number {
  const present = (denials & Deny.Access) !== 0 ? lo & ~E_P : lo | E_P;
  return ((base & BASE_WRITABLE) !== 0 && (denials & Deny.Write) === 0 ? present | E_RW : present & ~E_RW) >>> 0;
}

/** The high word of a domain page's PTE: XD=1 unless the mapping is executable and the domain allows fetches. */
export function domainPteHi(hi: number, base: number, denials: Denials): number {
  return ((base & BASE_EXECUTABLE) === 0 || (denials & Deny.Execute) !== 0 ? hi | E_XD_HI : hi & ~E_XD_HI) >>> 0;
}
