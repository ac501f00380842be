import type { AccessKind } from './access';

/**
 * Per-pointer authority: the part of the protection-domain interface that domain spaces cannot
 * express. A domain space gives rights to a *thread* (a register); a capability gives rights to a
 * *pointer* (CHERI: a 128-bit pointer carrying bounds and permissions, checked on every access made
 * through it). Matthew Wilcox pointed at CHERI as where PKS is heading (LWN, "Seeking an API for
 * protection keys supervisor", LSFMM 2022). A machine that has it exposes `Machine.authority`;
 * machines without it (every key architecture) leave it undefined and nothing else changes.
 */

/** What a capability permits, as bits (CHERI's PERMIT_LOAD, PERMIT_STORE, PERMIT_EXECUTE). */
export const CapPerm = {
  Load: 0x1,
  Store: 0x2,
  Execute: 0x4,
} as const;
/** A bit set of {@link CapPerm} flags. */
export type CapPerms = number;

/** The root capability: all memory, every permission (what boot code holds before deriving). */
export const ROOT_CAPABILITY = 0;

/** A capability as software sees it. */
export interface CapabilityInfo {
  readonly id: number;
  readonly base: number;
  readonly length: number;
  readonly perms: CapPerms;
  /** False once cleared (CHERI: the tag bit is cleared; the pointer carries no authority any more). */
  readonly valid: boolean;
  /** Who asked for it, for reports. */
  readonly owner: string;
}

/** Why a capability check refused an access (the `detail.capability` of an AccessFault with cause 'capability'). */
export type CapabilityViolation = 'bounds' | 'permission' | 'tag';

/**
 * Capabilities of one machine. Derivation is monotonic: a child never exceeds its parent's bounds or
 * permissions (CHERI CSetBounds/CAndPerm); a violation throws `DomainError('invalid')` and changes
 * nothing. Accesses through a capability are checked first (bounds, permissions, tag), then made
 * by the machine's ordinary path, so page tables still apply; a refused access returns a nonzero
 * fault code and `lastFault(cpu)` has cause 'capability'.
 */
export interface PointerAuthority {
  /** Checks made per access (one bounds-and-permissions check for CHERI-like capabilities). */
  readonly checksPerAccess: number;
  /** A capability for [base, base+length) with `perms`, derived from `parent` ({@link ROOT_CAPABILITY} at boot). */
  derive(parent: number, base: number, length: number, perms: CapPerms, owner: string): number;
  /** Clear a capability's tag: every later access through it faults (revocation). */
  clear(cap: number): void;
  /** What `cap` grants (bounds, permissions, validity, owner), or undefined when no such capability exists. */
  describe(cap: number): CapabilityInfo | undefined;
  /** A checked access through `cap`: ACCESS_OK or a fault code. */
  accessVia(cpu: number, cap: number, virtual: number, kind: AccessKind): number;
  /** A checked store of bytes through `cap` (nothing is written when any byte is refused). */
  writeVia(cpu: number, cap: number, virtual: number, bytes: Uint8Array): number;
  /** A checked load through `cap`; undefined with `lastFault` set when refused. */
  readVia(cpu: number, cap: number, virtual: number, length: number): Uint8Array | undefined;
}
