import type { AccessKind, Privilege } from './access';
import type { PointerAuthority } from './authority';
import type { DomainSpace } from './domain';
import type { EventCounters } from './events';

/** Page sizes a mapping may use. */
export const PageSize = {
  Size4K: 0x1000,
  Size2M: 0x200000,
  Size1G: 0x40000000,
} as const;
export type PageSize = (typeof PageSize)[keyof typeof PageSize];

/** Base permissions and the domain of a mapping. */
export interface MappingAttributes {
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  /** The domain tag (x86 key). Defaults to the space's default domain. */
  readonly domain?: number;
  /** Leaf size; the range must be aligned to it. Defaults to 4 KiB. */
  readonly pageSize?: PageSize;
  /** Survives address-space switches (x86 G bit). */
  readonly global?: boolean;
}

/** What a page-table walk finds for one address. */
export interface Translation {
  readonly physical: number;
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly domain: number;
  readonly pageSize: PageSize;
}

/** Why an access faulted. */
export type FaultCause =
  /** A protection domain denied it (x86 PK, arm64 Overlay, POWER DSISR_AMR). */
  | 'domain'
  /** The page tables' base permissions denied it (R/W, U/S, NX). */
  | 'permission'
  /** SMEP, SMAP or PAN. */
  | 'privilege-guard'
  | 'not-present'
  /** A reserved bit was set in a paging-structure entry. */
  | 'reserved'
  /** A capability refused it: out of bounds, missing permission or cleared tag (see PointerAuthority). */
  | 'capability';

/** A fault raised by an access: the neutral part plus the architecture's own report. */
export interface AccessFault {
  readonly cpu: number;
  readonly address: number;
  readonly access: AccessKind;
  /** The mode of the access (CPL 3 = user). */
  readonly mode: Privilege;
  readonly cause: FaultCause;
  /** The domain, when the hardware reports it; otherwise software finds it with `translate`. */
  readonly domain?: number;
  /** Architecture detail, e.g. `{ vector: '#PF', errorCode: 0x23, cr2: ... }`. */
  readonly detail: Readonly<Record<string, string | number | boolean>>;
  /** One line, e.g. "#PF error code 0x23 (P W PK) at 0x..." */
  readonly summary: string;
}

/** Result code of {@link Machine.access}: 0 when allowed; any other value is a fault. */
export const ACCESS_OK = 0;

/** An address space: the root of a set of page tables. */
export type AddressSpaceId = number;

/**
 * Architecture-neutral view of a simulated machine: CPUs, memory, page tables and the domain spaces
 * that protect them. The kernel programs against this and nothing else.
 */
export interface Machine {
  readonly arch: string;
  readonly cpuCount: number;
  readonly events: EventCounters;
  /**
   * Per-pointer authority (capabilities), when the scheme has it; undefined on every key architecture.
   * Optional so that machines written before it keep working unchanged.
   */
  readonly authority?: PointerAuthority;
  /** The domain space governing pages of this privilege, or undefined when the scheme has none. */
  domainSpace(governs: Privilege): DomainSpace | undefined;

  /** A new, empty address space. */
  createAddressSpace(): AddressSpaceId;
  /** Switch a CPU to an address space (x86 CR3 load: non-global translations flushed). */
  activate(cpu: number, space: AddressSpaceId): void;
  /** The address space the CPU is currently running in. */
  activeSpace(cpu: number): AddressSpaceId;
  /** Map `[virtual, virtual+length)` to `[physical, ...)`. The range must not be mapped already. */
  map(space: AddressSpaceId, virtual: number, physical: number, length: number, attrs: MappingAttributes): void;
  /** Remove the mappings of `[virtual, virtual+length)`. */
  unmap(space: AddressSpaceId, virtual: number, length: number): void;
  /**
   * Tag `[virtual, virtual+length)` with `domain`, splitting large pages that straddle the range and
   * invalidating the translation on every CPU (counted as flushes and shootdowns).
   */
  attach(space: AddressSpaceId, virtual: number, length: number, domain: number): void;
  /** Walk the page tables (no TLB, no side effects); undefined when not mapped. */
  translate(space: AddressSpaceId, virtual: number): Translation | undefined;

  /** Allocate physical memory (4 KiB frames, zeroed). `persistent` takes it from a PMEM region. */
  allocatePhysical(length: number, options?: { persistent?: boolean; align?: number }): number;
  /** Read `length` bytes of physical memory starting at `physical`. */
  readPhysical(physical: number, length: number): Uint8Array;
  /** Write `bytes` to physical memory starting at `physical`. */
  writePhysical(physical: number, bytes: Uint8Array): void;
  /**
   * Power-cycle: RAM and every CPU's state are lost; persistent regions keep their contents. The
   * event counters keep counting: they are the simulation's accounting, not machine state.
   */
  reboot(): void;

  /** Set the mode the CPU's next accesses are made in (CPL 0 or 3). */
  setMode(cpu: number, mode: Privilege): void;
  /** The mode (privilege) the CPU's next accesses are made in. */
  mode(cpu: number): Privilege;
  /** Check (and perform) an access through the CPU's TLB: {@link ACCESS_OK} or a fault code. */
  access(cpu: number, virtual: number, kind: AccessKind): number;
  /** A store of bytes (checked first, page by page; nothing is written if any page faults). */
  write(cpu: number, virtual: number, bytes: Uint8Array): number;
  /** A load of bytes; undefined with `lastFault` set when it faults. */
  read(cpu: number, virtual: number, length: number): Uint8Array | undefined;
  /** Details of the CPU's most recent fault. */
  lastFault(cpu: number): AccessFault | undefined;
}
