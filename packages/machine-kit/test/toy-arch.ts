/**
 * A toy architecture for the kit's tests: a 4-level codec with a 4-bit tag in bits 59:56 and a
 * PKRU-like register per CPU (bit 2d = deny access, 2d+1 = deny write).
 */
import { AccessKind, Privilege, type DomainSpace } from '@pkeysim/core';
import {
  type DescriptorCodec,
  type EntryWords,
  FaultKind,
  type FaultReport,
  KitMachine,
  type KitFaultRecord,
  type KitMachineOptions,
  type LeafRequest,
  TF_GLOBAL,
  TF_PRIV_EXEC,
  TF_PRIV_READ,
  TF_PRIV_WRITE,
  TF_USER,
  TF_USER_EXEC,
  TF_USER_READ,
  TF_USER_WRITE,
  translationDomain,
  TWO_32,
} from '../src/index';

const V = 1;
const LEAF = 2;
const USER = 4;
const WRITE = 8;
const NX = 16;
const GLOBAL = 32;
const TAG_SHIFT = 24;

export const toyCodec: DescriptorCodec = {
  name: 'toy',
  levels: 4,
  bitsPerLevel: 9,
  pageShift: 12,
  leafLevels: [0, 1, 2],
  domainCount: 16,
  domainField: 'bits 59:56',
  isValid: (lo) => (lo & V) !== 0,
  isLeaf: (lo, _hi, level) => level === 0 || (lo & LEAF) !== 0,
  outputAddress: (lo, hi, level) => {
    const span = 2 ** (12 + 9 * level);
    const address = ((lo & 0xfffff000) >>> 0) + (hi & 0xfffff) * TWO_32;
    return (lo & LEAF) !== 0 || level === 0 ? address - (address % span) : address;
  },
  leafFlags: (lo) => {
    const user = (lo & USER) !== 0;
    const write = (lo & WRITE) !== 0;
    const exec = (lo & NX) === 0;
    return (
      TF_PRIV_READ |
      (write ? TF_PRIV_WRITE : 0) |
      (exec && !user ? TF_PRIV_EXEC : 0) |
      (user ? TF_USER | TF_USER_READ | (write ? TF_USER_WRITE : 0) | (exec ? TF_USER_EXEC : 0) : 0) |
      ((lo & GLOBAL) !== 0 ? TF_GLOBAL : 0)
    );
  },
  domainOf: (_lo, hi) => (hi >>> TAG_SHIFT) & 15,
  encodeTable: (table): EntryWords => ({ lo: (V | (table % TWO_32)) >>> 0, hi: Math.floor(table / TWO_32) }),
  encodeLeaf: (physical, level, r: LeafRequest): EntryWords => ({
    lo:
      (V |
        (level > 0 ? LEAF : 0) |
        (r.user ? USER : 0) |
        (r.writable ? WRITE : 0) |
        (r.executable ? 0 : NX) |
        (r.global ? GLOBAL : 0) |
        (physical % TWO_32)) >>>
      0,
    hi: (Math.floor(physical / TWO_32) | (r.domain << TAG_SHIFT)) >>> 0,
  }),
  withDomain: (lo, hi, _level, domain) => ({ lo, hi: ((hi & ~(15 << TAG_SHIFT)) | (domain << TAG_SHIFT)) >>> 0 }),
  splitLeaf: (lo, hi, level, physical) => ({
    lo: ((lo & 0xfff & ~(level - 1 === 0 ? LEAF : 0)) | (physical % TWO_32)) >>> 0,
    hi: ((hi & ~0xfffff) | Math.floor(physical / TWO_32)) >>> 0,
  }),
};

export class ToyMachine extends KitMachine {
  /** Per-CPU rights: 2 bits per domain, deny-access then deny-write. */
  readonly rights: Uint32Array;
  constructor(options: Partial<KitMachineOptions> = {}) {
    super({ arch: 'toy', codec: toyCodec, ramBytes: 64 << 20, persistentBytes: 16 << 20, ...options });
    this.rights = new Uint32Array(this.cpuCount);
  }
  domainSpace(_governs: Privilege): DomainSpace | undefined {
    return undefined;
  }
  protected override checkAccess(cpu: number, flags: number, kind: AccessKind): number {
    const mode = this.modes[cpu] as Privilege;
    const user = mode === Privilege.User;
    const need =
      kind === AccessKind.Read
        ? user
          ? TF_USER_READ
          : TF_PRIV_READ
        : kind === AccessKind.Write
          ? user
            ? TF_USER_WRITE
            : TF_PRIV_WRITE
          : user
            ? TF_USER_EXEC
            : TF_PRIV_EXEC;
    if ((flags & need) === 0) return FaultKind.Permission;
    if (kind === AccessKind.Fetch) return 0;
    const bits = (this.rights[cpu] >>> (2 * translationDomain(flags))) & 3;
    if ((bits & 1) !== 0 || (kind === AccessKind.Write && (bits & 2) !== 0)) return FaultKind.Domain;
    return 0;
  }
  protected describeFault(record: KitFaultRecord): FaultReport {
    return {
      detail: { code: record.code, level: record.level },
      summary: `toy fault ${record.code} at ${record.address}`,
    };
  }
  protected resetArchitecture(): void {
    this.rights.fill(0);
  }
}
