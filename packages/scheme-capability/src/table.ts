import {
  type AccessFault,
  AccessKind,
  accessKindName,
  type CapabilityInfo,
  type CapabilityViolation,
  CapPerm,
  type CapPerms,
  DomainError,
  ROOT_CAPABILITY,
} from '@pkeysim/core';

/** Capabilities a machine may hold at once (a named limit: derive refuses more). */
export const MAX_CAPABILITIES = 1 << 20;
const ALL_PERMS = CapPerm.Load | CapPerm.Store | CapPerm.Execute;
/** The root spans every signed 64-bit address. */
const ROOT_BASE = -(2 ** 63);
const ROOT_LENGTH = 2 ** 64;

/** The permission an access of `kind` needs (CHERI: loads PERMIT_LOAD, stores PERMIT_STORE, fetches PERMIT_EXECUTE). */
export function permFor(kind: AccessKind): CapPerms {
  return kind === AccessKind.Read ? CapPerm.Load : kind === AccessKind.Write ? CapPerm.Store : CapPerm.Execute;
}

/**
 * The machine's capabilities, in typed arrays indexed by capability number (the check on every
 * access reads three of them; nothing is allocated per access). Capability 0 is the root.
 */
export class CapabilityTable {
  private base = new Float64Array(256);
  private length = new Float64Array(256);
  private perms = new Uint8Array(256);
  private valid = new Uint8Array(256);
  private readonly owners: string[] = [];
  private count = 0;

  constructor() {
    this.push(ROOT_BASE, ROOT_LENGTH, ALL_PERMS, 'root');
  }

  get size(): number {
    return this.count;
  }

  /** Derive a capability for [base, base+length) with `perms` from `parent`, never exceeding its bounds or permissions. */
  derive(parent: number, base: number, length: number, perms: CapPerms, owner: string): number {
    this.checkId(parent, 'derive');
    if (this.valid[parent] === 0) throw new DomainError('invalid', `derive: capability ${parent} has been cleared`);
    if (!Number.isFinite(base) || !Number.isFinite(length) || length < 0)
      throw new DomainError('invalid', `derive: bounds ${String(base)}+${String(length)} are not a finite range`);
    if (!Number.isInteger(perms) || (perms & ~ALL_PERMS) !== 0)
      throw new DomainError('invalid', `derive: permissions 0x${Number(perms).toString(16)} are not CapPerm bits`);
    // Monotonicity (CHERI CSetBounds, CAndPerm): a child never exceeds its parent.
    const pb = this.base[parent];
    if (length > 0 && (base < pb || base + length > pb + this.length[parent]))
      throw new DomainError('invalid', `derive: bounds exceed capability ${parent} (${this.owners[parent]})`);
    if ((perms & ~this.perms[parent]) !== 0)
      throw new DomainError('invalid', `derive: permissions exceed capability ${parent} (${this.owners[parent]})`);
    if (this.count >= MAX_CAPABILITIES)
      throw new DomainError('exhausted', `derive: MAX_CAPABILITIES (${MAX_CAPABILITIES}) capabilities exist already`);
    return this.push(base, length, perms, owner);
  }

  /** Clear a capability's tag (the root capability cannot be cleared). */
  clear(cap: number): void {
    this.checkId(cap, 'clear');
    if (cap === ROOT_CAPABILITY) throw new DomainError('invalid', 'clear: the root capability cannot be cleared');
    this.valid[cap] = 0;
  }

  /** What `cap` grants, or undefined when no such capability exists. */
  describe(cap: number): CapabilityInfo | undefined {
    if (!Number.isInteger(cap) || cap < 0 || cap >= this.count) return undefined;
    return {
      id: cap,
      base: this.base[cap],
      length: this.length[cap],
      perms: this.perms[cap],
      valid: this.valid[cap] === 1,
      owner: this.owners[cap],
    };
  }

  /** Why `[virtual, virtual+size)` with `kind` is refused through `cap`, or undefined when allowed. */
  violation(cap: number, virtual: number, size: number, kind: AccessKind): CapabilityViolation | undefined {
    if (!Number.isInteger(cap) || cap < 0 || cap >= this.count || this.valid[cap] === 0) return 'tag';
    const base = this.base[cap];
    if (virtual < base || virtual + size > base + this.length[cap]) return 'bounds';
    if ((this.perms[cap] & permFor(kind)) === 0) return 'permission';
    return undefined;
  }

  /** The fault report of a refused access. */
  fault(cpu: number, cap: number, virtual: number, kind: AccessKind, why: CapabilityViolation): AccessFault {
    const owner = this.owners[cap] ?? 'none';
    return {
      cpu,
      address: virtual,
      access: kind,
      mode: 1,
      cause: 'capability',
      detail: { vector: 'capability', capability: why, cap, owner },
      summary: `capability fault (${why}) on ${accessKindName(kind)} at 0x${BigInt.asUintN(64, BigInt(virtual)).toString(16)} through capability ${cap} (${owner})`,
    };
  }

  private push(base: number, length: number, perms: number, owner: string): number {
    if (this.count === this.base.length) this.grow();
    const id = this.count++;
    this.base[id] = base;
    this.length[id] = length;
    this.perms[id] = perms;
    this.valid[id] = 1;
    this.owners[id] = owner;
    return id;
  }

  private grow(): void {
    const n = this.base.length * 2;
    const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.base = grow(this.base, (k) => new Float64Array(k));
    this.length = grow(this.length, (k) => new Float64Array(k));
    this.perms = grow(this.perms, (k) => new Uint8Array(k));
    this.valid = grow(this.valid, (k) => new Uint8Array(k));
  }

  private checkId(cap: number, op: string): void {
    if (!Number.isInteger(cap) || cap < 0 || cap >= this.count)
      throw new DomainError('invalid', `${op}: ${String(cap)} is not a capability`);
  }
}
