import { CapPerm, type PointerAuthority, ROOT_CAPABILITY } from '@pkeysim/core';
import type { Cpu } from '../cpu';
import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import {
  capabilityAccess,
  KmapApiBase,
  type KmapAccess,
  type KmapApiOptions,
  type KmapBlock,
  type KmapMapping,
  type KmapPointer,
} from './design';

/** How much memory unrelated code's own object spans (its capability's bounds). */
const STRAY_OBJECT = 64;

/**
 * Capabilities instead of keys (Matthew Wilcox at LSFMM 2022: CHERI "applies capabilities to all of
 * memory"; PKS is a small step towards it). Mapping a block derives a capability bounded to the
 * block, with store permission only for writers; every access is checked against the capability it
 * is made through. Nothing is switched: no rights register, no PTE writes. What it cannot catch is
 * an in-bounds store by code that holds the capability (a leaked pointer, a use after unmap: CHERI
 * has no cheap revocation).
 */
export class CapabilityKmap extends KmapApiBase {
  readonly name = 'capability' as const;
  readonly source = 'CHERI-like capabilities (Wilcox at LSFMM 2022): bounds and permissions per pointer';
  private readonly authority: PointerAuthority;
  private readonly blockCaps = new Map<number, number>();
  private readonly strayCaps = new Map<number, number>();
  private readonly nullCap: number;

  constructor(kernel: Kernel, options: KmapApiOptions) {
    super(kernel, options);
    const authority = kernel.machine.authority;
    if (!authority)
      throw new KernelError(
        'EOPNOTSUPP',
        `capability design: ${kernel.machine.arch} has no pointer authority (use --arch capability)`,
      );
    this.authority = authority;
    // An address made up from an integer (page_address() in a pure-capability kernel) carries no authority.
    this.nullCap = authority.derive(ROOT_CAPABILITY, 0, 0, 0, 'null');
    authority.clear(this.nullCap);
  }

  prepare(block: KmapBlock): void {
    const cap = this.authority.derive(
      ROOT_CAPABILITY,
      block.directAddress,
      block.length,
      CapPerm.Load | CapPerm.Store,
      `block ${block.id}`,
    );
    this.blockCaps.set(block.id, cap);
  }

  map(cpu: Cpu, block: KmapBlock, write: boolean): KmapMapping {
    const parent = this.blockCaps.get(block.id);
    if (parent === undefined) throw new KernelError('EINVAL', `capability design: block ${block.id} was not prepared`);
    const perms = write ? CapPerm.Load | CapPerm.Store : CapPerm.Load;
    const cap = this.authority.derive(parent, block.directAddress, block.length, perms, cpu.current.name);
    return this.newMapping(cpu, block, write, { address: block.directAddress, cap });
  }

  protected unmapOpen(): void {
    // Nothing to undo: the capability stays valid (revocation would need a sweep of memory).
  }

  /** Unrelated code's pointer is derived from its own object's capability, not the block's. */
  override strayPointer(cpu: Cpu, address: number): KmapPointer {
    let cap = this.strayCaps.get(cpu.current.tid);
    if (cap === undefined) {
      const own = this.kernel.page_address(this.kernel.alloc_page());
      cap = this.authority.derive(ROOT_CAPABILITY, own, STRAY_OBJECT, CapPerm.Load | CapPerm.Store, cpu.current.name);
      this.strayCaps.set(cpu.current.tid, cap);
    }
    return { address, cap };
  }

  override probePageAddress(cpu: Cpu, block: KmapBlock): boolean {
    const r = this.load(cpu, { address: block.directAddress, cap: this.nullCap }, 0, 8);
    if (r.ok) return false;
    this.misuse(
      'page-address-without-map',
      cpu.current,
      `capability: page_address() of block ${block.id} carries no capability`,
    );
    return true;
  }

  /** A write checked against the pointer's capability (counted in capabilityChecks). */
  override store(cpu: Cpu, pointer: KmapPointer, offset: number, bytes: Uint8Array): KmapAccess {
    this.capabilityChecks += this.authority.checksPerAccess;
    return capabilityAccess(this.authority, cpu, pointer, offset, bytes);
  }

  /** A read checked against the pointer's capability (counted in capabilityChecks). */
  override load(cpu: Cpu, pointer: KmapPointer, offset: number, length: number): KmapAccess {
    this.capabilityChecks += this.authority.checksPerAccess;
    return capabilityAccess(this.authority, cpu, pointer, offset, length);
  }
}
