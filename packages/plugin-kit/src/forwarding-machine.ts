import {
  type AccessFault,
  type AccessKind,
  type AddressSpaceId,
  type DomainSpace,
  type EventCounters,
  inPlacePageTables,
  type InPlacePageTables,
  type Machine,
  type MappingAttributes,
  type Privilege,
  type Translation,
} from '@pkeysim/core';

/**
 * A {@link Machine} that forwards every call to an inner machine. A protection scheme built out of an
 * existing machine (page-table permissions, virtual keys, a restricted key space) extends it and
 * overrides only what it changes, typically `arch`, `domainSpace`, `map`, `attach` and `translate`.
 * It shares the inner machine's event counters, so costs of both layers add up in one place.
 */
export class ForwardingMachine<M extends Machine = Machine> implements Machine {
  readonly arch: string;
  readonly cpuCount: number;
  readonly events: EventCounters;

  constructor(protected readonly inner: M) {
    this.arch = inner.arch;
    this.cpuCount = inner.cpuCount;
    this.events = inner.events;
  }

  domainSpace(governs: Privilege): DomainSpace | undefined {
    return this.inner.domainSpace(governs);
  }
  createAddressSpace(): AddressSpaceId {
    return this.inner.createAddressSpace();
  }
  activate(cpu: number, space: AddressSpaceId): void {
    this.inner.activate(cpu, space);
  }
  activeSpace(cpu: number): AddressSpaceId {
    return this.inner.activeSpace(cpu);
  }
  map(space: AddressSpaceId, virtual: number, physical: number, length: number, attrs: MappingAttributes): void {
    this.inner.map(space, virtual, physical, length, attrs);
  }
  unmap(space: AddressSpaceId, virtual: number, length: number): void {
    this.inner.unmap(space, virtual, length);
  }
  attach(space: AddressSpaceId, virtual: number, length: number, domain: number): void {
    this.inner.attach(space, virtual, length, domain);
  }
  translate(space: AddressSpaceId, virtual: number): Translation | undefined {
    return this.inner.translate(space, virtual);
  }
  allocatePhysical(length: number, options?: { persistent?: boolean; align?: number }): number {
    return this.inner.allocatePhysical(length, options);
  }
  readPhysical(physical: number, length: number): Uint8Array {
    return this.inner.readPhysical(physical, length);
  }
  writePhysical(physical: number, bytes: Uint8Array): void {
    this.inner.writePhysical(physical, bytes);
  }
  reboot(): void {
    this.inner.reboot();
  }
  setMode(cpu: number, mode: Privilege): void {
    this.inner.setMode(cpu, mode);
  }
  mode(cpu: number): Privilege {
    return this.inner.mode(cpu);
  }
  access(cpu: number, virtual: number, kind: AccessKind): number {
    return this.inner.access(cpu, virtual, kind);
  }
  write(cpu: number, virtual: number, bytes: Uint8Array): number {
    return this.inner.write(cpu, virtual, bytes);
  }
  read(cpu: number, virtual: number, length: number): Uint8Array | undefined {
    return this.inner.read(cpu, virtual, length);
  }
  lastFault(cpu: number): AccessFault | undefined {
    return this.inner.lastFault(cpu);
  }
  /**
   * The inner machine's in-place page tables (core's inPlacePageTables): tables kernel code builds
   * hold domain 0 pages here, which every scheme leaves as the inner machine maps them. A scheme
   * that must see every leaf written overrides this to return undefined.
   */
  inPlacePageTables(): InPlacePageTables | undefined {
    return inPlacePageTables(this.inner);
  }
}
