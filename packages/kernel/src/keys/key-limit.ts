/**
 * How many keys the kernel's key table holds for a domain space with no hardware limit
 * (`DomainSpaceInfo.domains === Infinity`: page-table permissions, virtual keys). The series' table is
 * a fixed array of PKS_KEY_MAX entries (V10 include/linux/pks-keys.h); pkeysim gives an unbounded
 * space one 64-bit bitmap word of keys, so allocation still ends in -ENOSPC as the series' API says.
 */
export const UNBOUNDED_KEY_TABLE_SIZE = 64;

/** The number of keys the kernel manages for a space with `domains` domains. */
export function keyTableSize(domains: number): number {
  return Number.isFinite(domains) ? domains : UNBOUNDED_KEY_TABLE_SIZE;
}
