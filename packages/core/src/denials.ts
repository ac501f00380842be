import { echoValue } from './echo';

/**
 * Rights are expressed the way Linux's pkey API expresses them on every architecture: as the
 * accesses a domain DENIES on top of what the page tables allow. "No denial" means "whatever the
 * base permissions grant", which is what every scheme can honour.
 *
 * The values are Linux's: PKEY_DISABLE_ACCESS 0x1 and PKEY_DISABLE_WRITE 0x2 (include/uapi/asm-generic/
 * mman-common.h); PKEY_DISABLE_EXECUTE 0x4 and PKEY_DISABLE_READ 0x8 (arch/arm64/include/uapi/asm/mman.h).
 */
export const Deny = {
  None: 0,
  /** Every data read and write faults (x86 AD). */
  Access: 0x1,
  /** Writes fault (x86 WD). */
  Write: 0x2,
  /** Instruction fetches fault (arm64 POE, POWER IAMR, PTE NX). */
  Execute: 0x4,
  /** Reads fault but writes may not (arm64 POE only). */
  Read: 0x8,
} as const;

/** A bit set of {@link Deny} flags. */
export type Denials = number;

/** Every {@link Deny} flag set: deny access, write, execute and read. */
export const DENY_ALL_FLAGS = Deny.Access | Deny.Write | Deny.Execute | Deny.Read;

/** True when `denials` uses only flags in `supported`. */
export function denialsSupported(denials: Denials, supported: Denials): boolean {
  return (denials & ~supported) === 0;
}

/** "rw", "r-", "--", with an "x"/"-" column when execute can be denied. */
export function formatDenials(denials: Denials, withExecute = false): string {
  const read = (denials & (Deny.Access | Deny.Read)) === 0;
  const write = (denials & (Deny.Access | Deny.Write)) === 0;
  const exec = (denials & Deny.Execute) === 0;
  return `${read ? 'r' : '-'}${write ? 'w' : '-'}${withExecute ? (exec ? 'x' : '-') : ''}`;
}

/** Parse "rw", "r", "none", "rx", ... into denials (the inverse of {@link formatDenials}). */
export function parseRights(text: string): Denials {
  if (typeof text !== 'string') throw new RangeError(`rights must be a string such as "rw", got ${echoValue(text)}`);
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === '' || t === '-') return Deny.Access | Deny.Execute;
  if (!/^[rwx-]+$/.test(t)) throw new RangeError(`rights ${echoValue(text)} must be letters from r, w, x (or "none")`);
  let denials = 0;
  const r = t.includes('r');
  const w = t.includes('w');
  if (!r && !w) denials |= Deny.Access;
  else if (!r) denials |= Deny.Read;
  else if (!w) denials |= Deny.Write;
  if (!t.includes('x')) denials |= Deny.Execute;
  return denials;
}
