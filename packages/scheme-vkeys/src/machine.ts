import {
  AccessKind,
  type AddressSpaceId,
  type DomainSpace,
  type MachineConfig,
  MachineEvent,
  type MappingAttributes,
  Privilege,
  type Translation,
} from '@pkeysim/core';
import { ForwardingMachine, PageMap } from '@pkeysim/plugin-kit';
import { FAULT_PF, formatAddress, PAGE_SIZE, PF, X86Machine } from '@pkeysim/x86';
import { checkVirtualKey, type RetagHost, type VirtualKeyStats, type VirtualPage, VirtualKeySpace } from './space';

/** A page of a non-default virtual key: one record, kept here and in its virtual key space. */
interface PageRecord extends VirtualPage {
  readonly vkey: number;
  readonly vspace: VirtualKeySpace;
}

function isKeyFault(code: number): boolean {
  return (code & FAULT_PF) !== 0 && (code & PF.PK) !== 0;
}

/**
 * Virtual keys on an x86 machine: supervisor pages get virtual keys over PKS, user pages over PKU.
 * Pages carry the hardware key their virtual key owns, or the parking key; the domain software sees
 * (translate, attach, map) is always the virtual key.
 */
export class VirtualKeyMachine extends ForwardingMachine<X86Machine> implements RetagHost {
  override readonly arch: string = 'vkeys';
  private readonly supervisor: VirtualKeySpace;
  private readonly user: VirtualKeySpace;
  private readonly pages = new PageMap<PageRecord>();

  /** Build the scheme on a new x86 machine (with PKU and PKS) described by `config`. */
  static fromConfig(config: MachineConfig): VirtualKeyMachine {
    return new VirtualKeyMachine(X86Machine.fromConfig({ ...config, arch: 'x86' }));
  }

  constructor(inner: X86Machine) {
    super(inner);
    const measure = (): { pteWrites: number; shootdowns: number } => ({
      pteWrites: inner.events.total(MachineEvent.PteWrite),
      shootdowns: inner.events.total(MachineEvent.Shootdown),
    });
    this.supervisor = new VirtualKeySpace(inner.domainSpace(Privilege.Supervisor)!, this, measure);
    this.user = new VirtualKeySpace(inner.domainSpace(Privilege.User)!, this, measure);
  }

  /** The x86 machine underneath. */
  get x86(): X86Machine {
    return this.inner;
  }

  /** The virtual key space for user pages (over PKU) or supervisor pages (over PKS). */
  override domainSpace(governs: Privilege): VirtualKeySpace & DomainSpace {
    return governs === Privilege.User ? this.user : this.supervisor;
  }

  /** Cost and protection counters of both virtual key spaces. */
  stats(): { supervisor: VirtualKeyStats; user: VirtualKeyStats } {
    return { supervisor: this.supervisor.stats(), user: this.user.stats() };
  }

  retag(pages: Iterable<VirtualPage>, key: number, initiator: number): void {
    // Contiguous pages of one address space move in one range (one flush or shootdown per run), the
    // spaces in ascending order. Each space's addresses are sorted as a typed array: a numeric sort
    // with no comparator call per comparison.
    const bySpace = new Map<number, number[]>();
    for (const page of pages) {
      let list = bySpace.get(page.space);
      if (!list) bySpace.set(page.space, (list = []));
      list.push(page.virtual);
    }
    for (const space of [...bySpace.keys()].sort((a, b) => a - b)) {
      const virtuals = Float64Array.from(bySpace.get(space)!).sort();
      let i = 0;
      while (i < virtuals.length) {
        let j = i + 1;
        while (j < virtuals.length && virtuals[j] === virtuals[j - 1] + PAGE_SIZE) j++;
        this.inner.attach(space, virtuals[i], (j - i) * PAGE_SIZE, key, initiator);
        i = j;
      }
    }
  }

  // ---- mappings -----------------------------------------------------------------------------------

  private spaceFor(user: boolean): VirtualKeySpace {
    return user ? this.user : this.supervisor;
  }

  private record(space: AddressSpaceId, virtual: number, length: number, vkey: number, vspace: VirtualKeySpace): void {
    for (let at = virtual; at < virtual + length; at += PAGE_SIZE) {
      this.forget(space, at);
      if (vkey === 0) continue;
      const record: PageRecord = { vkey, vspace, space, virtual: at };
      this.pages.set(space, at, record);
      vspace.addPage(vkey, record);
    }
  }

  private forget(space: AddressSpaceId, virtual: number): void {
    const old = this.pages.get(space, virtual);
    if (!old) return;
    old.vspace.removePage(old.vkey, old);
    this.pages.delete(space, virtual);
  }

  /** Map with virtual key `attrs.domain`: the pages carry its hardware key, or the parking key. */
  override map(
    space: AddressSpaceId,
    virtual: number,
    physical: number,
    length: number,
    attrs: MappingAttributes,
  ): void {
    const vkey = attrs.domain ?? 0;
    checkVirtualKey(vkey);
    const vspace = this.spaceFor(attrs.user);
    const key = vspace.hardwareKeyOf(vkey);
    this.inner.map(space, virtual, physical, length, attrs.domain === key ? attrs : { ...attrs, domain: key });
    this.record(space, virtual, length, vkey, vspace);
  }

  /** Unmap the range and forget its pages' virtual keys. */
  override unmap(space: AddressSpaceId, virtual: number, length: number): void {
    this.inner.unmap(space, virtual, length);
    for (let at = virtual; at < virtual + length; at += PAGE_SIZE) this.forget(space, at);
  }

  /** Tag the range with a virtual key: its pages take the key's hardware key (or the parking key). */
  override attach(space: AddressSpaceId, virtual: number, length: number, vkey: number, initiator = 0): void {
    checkVirtualKey(vkey);
    this.inner.cpu(initiator);
    if (!Number.isInteger(length) || length <= 0 || length % PAGE_SIZE !== 0) {
      throw new RangeError(`length ${String(length)} must be a positive multiple of 0x1000`);
    }
    // Validate every page first: a refused attach changes nothing.
    const users: boolean[] = [];
    for (let at = virtual; at < virtual + length; at += PAGE_SIZE) {
      const t = this.inner.translate(space, at);
      if (!t) throw new RangeError(`${formatAddress(at)} is not mapped in address space ${space}`);
      users.push(t.user);
    }
    let i = 0;
    while (i < users.length) {
      let j = i + 1;
      while (j < users.length && users[j] === users[i]) j++;
      const vspace = this.spaceFor(users[i]);
      const start = virtual + i * PAGE_SIZE;
      this.inner.attach(space, start, (j - i) * PAGE_SIZE, vspace.hardwareKeyOf(vkey), initiator);
      this.record(space, start, (j - i) * PAGE_SIZE, vkey, vspace);
      i = j;
    }
  }

  /** The x86 translation, with the page's virtual key as its domain. */
  override translate(space: AddressSpaceId, virtual: number): Translation | undefined {
    const t = this.inner.translate(space, virtual);
    if (!t) return undefined;
    const vkey = this.pages.get(space, virtual)?.vkey ?? 0;
    // The x86 translation is a fresh object: reuse it when the domains agree (a key-0 page).
    return vkey === t.domain ? t : { ...t, domain: vkey };
  }

  /** Power-cycle the x86 machine and reset both virtual key spaces. */
  override reboot(): void {
    this.inner.reboot();
    this.pages.clear();
    this.supervisor.reset();
    this.user.reset();
  }

  // ---- accesses: a key fault may be a miss in the key cache ----------------------------------------

  /** Resolve a key fault the CPU's virtual rights allow; true when the access should be retried. */
  private resolve(cpu: number, virtual: number, kind: AccessKind): boolean {
    const record = this.pages.get(this.inner.activeSpace(cpu), virtual);
    if (!record || !record.vspace.allows(cpu, record.vkey, kind)) return false;
    return record.vspace.resolveMiss(cpu, record.vkey);
  }

  /** An access; a key fault the CPU's virtual rights allow is a key-cache miss, resolved and retried. */
  override access(cpu: number, virtual: number, kind: AccessKind): number {
    let code = this.inner.access(cpu, virtual, kind);
    // Bounded: a resolved miss leaves the key assigned and the register current.
    for (let tries = 0; tries < 2 && isKeyFault(code) && this.resolve(cpu, virtual, kind); tries++) {
      code = this.inner.access(cpu, virtual, kind);
    }
    return code;
  }

  /** A store; key-cache misses the virtual rights allow are resolved and the store retried. */
  override write(cpu: number, virtual: number, bytes: Uint8Array): number {
    const limit = Math.ceil(bytes.length / PAGE_SIZE) + 2;
    let code = this.inner.write(cpu, virtual, bytes);
    for (
      let tries = 0;
      tries < limit && isKeyFault(code) && this.resolve(cpu, this.inner.lastFault(cpu)!.address, AccessKind.Write);
      tries++
    ) {
      code = this.inner.write(cpu, virtual, bytes);
    }
    return code;
  }

  /** A load; key-cache misses the virtual rights allow are resolved and the load retried. */
  override read(cpu: number, virtual: number, length: number): Uint8Array | undefined {
    const limit = Math.ceil(length / PAGE_SIZE) + 2;
    let data = this.inner.read(cpu, virtual, length);
    for (let tries = 0; tries < limit && data === undefined; tries++) {
      const fault = this.inner.lastFault(cpu);
      if (!fault || fault.cause !== 'domain' || !this.resolve(cpu, fault.address, AccessKind.Read)) break;
      data = this.inner.read(cpu, virtual, length);
    }
    return data;
  }
}
