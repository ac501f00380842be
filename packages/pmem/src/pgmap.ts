import type { Machine } from '@pkeysim/core';
import {
  acquireConsumerKey,
  type Cpu,
  type ExceptionFrame,
  formatAddress,
  type Kernel,
  KernelError,
  type KmapHookPoints,
  kmapHooks,
  type KmapKind,
  PAGE_SIZE,
} from '@pkeysim/kernel';

/**
 * What a key fault on a protected pgmap page does: the series' boot parameter `memremap.pks_fault_mode`
 * (V10 mm/memremap.c). A "silent" mode was rejected on purpose, so there is none.
 */
export type PksFaultMode = 'relaxed' | 'strict';

/** Every accepted value of `memremap.pks_fault_mode`. */
export const PKS_FAULT_MODES: readonly PksFaultMode[] = ['relaxed', 'strict'];

/** The WARN_ONCE of relaxed mode (V10 mm/memremap.c pgmap_pks_fault_callback). */
export const RELAXED_WARNING = 'Page map protection being disabled';

/** The static key's name (V10 include/linux/pks-keys.h) and the owner name used with pks_key_alloc. */
export const PGMAP_KEY_NAME = 'PKS_KEY_PGMAP_PROTECTION';
/** The owner name passed to pks_key_alloc for the pgmap key. */
export const PGMAP_KEY_OWNER = 'pgmap_protection';

/** Options for pgmap protection: the fault mode and whether protection is on. */
export interface PgmapProtectionOptions {
  /** memremap.pks_fault_mode; relaxed is the series' default. */
  readonly faultMode?: PksFaultMode;
  /** false maps every pgmap unprotected (for comparison runs); default true. */
  readonly protection?: boolean;
}

/** Why protection is off, when it is. */
export type UnprotectedReason = 'unsupported' | 'no-key' | 'disabled';

/** A device page map (struct dev_pagemap): a physical range, and whether PGMAP_PROTECTION applies. */
export interface DevPagemap {
  readonly physical: number;
  readonly length: number;
  /** PGMAP_PROTECTION: the range is mapped with the pgmap key. */
  readonly protected: boolean;
}

/** Counters of what the protection did, for reports. */
export interface PgmapStats {
  /** pgmap_set_readwrite calls on protected pages (driver, DAX and kmap hooks together). */
  readwrite: number;
  /** Key faults the fault callback saw (each one either relaxed or left to oops). */
  faults: number;
  /** Key faults relaxed mode opened in the faulting context. */
  relaxed: number;
  /** Global kmap() calls on protected pages (not supported: the key is not opened). */
  globalKmaps: number;
}

const instances = new WeakMap<Machine, PgmapProtection>();

/**
 * The memremap.c side of PMEM stray-write protection for one kernel: the shared key, the fault
 * callback and its mode, the kmap hooks and pgmap_set_readwrite/noaccess. Every namespace of the
 * kernel shares it, as every pgmap shares PKS_KEY_PGMAP_PROTECTION.
 */
export class PgmapProtection {
  /** The key protected pgmaps are mapped with; undefined when running unprotected. */
  readonly key: number | undefined;
  /** Why there is no key (undefined when protected). */
  readonly unprotectedReason: UnprotectedReason | undefined;
  /** The notice logged when protection is unavailable or disabled. */
  readonly notice: string | undefined;
  readonly faultMode: PksFaultMode;
  readonly stats: PgmapStats = { readwrite: 0, faults: 0, relaxed: 0, globalKmaps: 0 };
  private readonly pgmaps: DevPagemap[] = [];
  private readonly hooks: KmapHookPoints | undefined;
  private warned = false;
  private warnedKmap = false;

  private constructor(
    readonly kernel: Kernel,
    options: PgmapProtectionOptions,
  ) {
    const faultMode = options.faultMode ?? 'relaxed';
    if (!PKS_FAULT_MODES.includes(faultMode)) {
      throw new KernelError(
        'EINVAL',
        `memremap.pks_fault_mode must be relaxed or strict, got ${JSON.stringify(faultMode)} (silent mode was rejected)`,
      );
    }
    this.faultMode = faultMode;
    if (options.protection === false) {
      this.unprotectedReason = 'disabled';
      this.notice = 'pmem: stray write protection disabled by request; namespaces run unprotected';
    } else {
      // pgmap_protection_available() (V10): no key, or no PKS, means no PGMAP_PROTECTION.
      const acquired = acquireConsumerKey(kernel, PGMAP_KEY_NAME, PGMAP_KEY_OWNER);
      if (acquired.ok) {
        this.key = acquired.key;
        this.hooks = kmapHooks(kernel);
        this.hooks.add({
          key: acquired.key,
          map: (cpu, address, length, kind) => this.kmapHook(cpu, address, kind, true),
          unmap: (cpu, address, length, kind) => this.kmapHook(cpu, address, kind, false),
        });
        kernel.pks_set_fault_callback(acquired.key, (frame, address) => this.faultCallback(frame, address));
      } else {
        this.unprotectedReason = acquired.reason;
        this.notice = `pmem: stray write protection unavailable (${acquired.message}); namespaces run unprotected`;
      }
    }
    if (this.notice) kernel.log.info(this.notice);
  }

  /**
   * The kernel's pgmap protection, set up on first use with `options` (a boot-time decision: asking
   * again with different options is refused).
   */
  static forKernel(kernel: Kernel, options: PgmapProtectionOptions = {}): PgmapProtection {
    const existing = instances.get(kernel.machine);
    if (existing) {
      const wantOff = options.protection === false;
      const isOff = existing.unprotectedReason === 'disabled';
      if ((options.faultMode && options.faultMode !== existing.faultMode) || wantOff !== isOff) {
        throw new KernelError(
          'EINVAL',
          `pgmap protection is already set up on this kernel (mode ${existing.faultMode}, protection ${isOff ? 'off' : 'on'})`,
        );
      }
      return existing;
    }
    const created = new PgmapProtection(kernel, options);
    instances.set(kernel.machine, created);
    return created;
  }

  /** True when new pgmaps get PGMAP_PROTECTION. */
  get enabled(): boolean {
    return this.key !== undefined;
  }

  /**
   * memremap_pages() with PGMAP_PROTECTION (V10): map the range in the direct map with the pgmap key
   * (set_memory_pks splits the 2 MiB direct-map pages it straddles). Unprotected when no key.
   */
  memremapPages(physical: number, length: number): DevPagemap {
    if (!Number.isInteger(length) || length < PAGE_SIZE || length % PAGE_SIZE !== 0)
      throw new KernelError('EINVAL', `memremap_pages: length must be whole pages, got ${String(length)}`);
    if (this.pgmapOf(physical) || this.pgmapOf(physical + length - 1))
      throw new KernelError('EBUSY', `memremap_pages: ${formatAddress(physical)} overlaps a pgmap`);
    const address = this.kernel.page_address(physical);
    if (this.key !== undefined) {
      const rc = this.kernel.set_memory_pks(address, length / PAGE_SIZE, this.key);
      if (rc !== 0) throw new KernelError('EINVAL', `memremap_pages: set_memory_pks failed (${rc})`);
    }
    const pgmap: DevPagemap = Object.freeze({ physical, length, protected: this.key !== undefined });
    this.pgmaps.push(pgmap);
    return pgmap;
  }

  /** The pgmap holding a physical address, if any. */
  pgmapOf(physical: number): DevPagemap | undefined {
    const pgmaps = this.pgmaps;
    for (let i = 0; i < pgmaps.length; i++) {
      const p = pgmaps[i];
      if (physical >= p.physical && physical < p.physical + p.length) return p;
    }
    return undefined;
  }

  /** pgmap_check_pgmap_prot(page): the page belongs to a pgmap with PGMAP_PROTECTION. */
  isProtectedPage(page: number): boolean {
    return this.pgmapOf(page)?.protected === true;
  }

  /**
   * pgmap_set_readwrite(page) (V10 include/linux/mm.h): open the key for the current context. The
   * nesting count is per context (the kernel's window count, saved across entries); the key changes
   * only on 0->1. A page outside a protected pgmap is a no-op, as in the series.
   */
  pgmap_set_readwrite(cpu: Cpu, page: number): void {
    if (!this.isProtectedPage(page)) return;
    this.hooks!.openKey(cpu.id, this.key!);
    this.stats.readwrite++;
  }

  /** pgmap_set_noaccess(page): close it; the key's default (AD) returns on 1->0. Unbalanced: EINVAL. */
  pgmap_set_noaccess(cpu: Cpu, page: number): void {
    if (!this.isProtectedPage(page)) return;
    if (this.hooks!.openCount(cpu.id, this.key!) === 0) {
      throw new KernelError(
        'EINVAL',
        `unbalanced pgmap_set_noaccess(${formatAddress(page)}): ${cpu.current.name} (tid ${cpu.current.tid}) has no pgmap_set_readwrite open in this context`,
      );
    }
    this.hooks!.closeKey(cpu.id, this.key!);
  }

  /** The current context's nesting count (0 when unprotected). */
  nesting(cpu: Cpu): number {
    return this.key === undefined ? 0 : this.hooks!.openCount(cpu.id, this.key);
  }

  /**
   * kmap_local_page()/kmap_atomic() call pgmap_set_readwrite and their unmaps pgmap_set_noaccess
   * (V10 highmem-internal.h). Plain kmap() does not: its mapping is global but PKS rights are per
   * thread, so the series left it unsupported and any access through it faults.
   */
  private kmapHook(cpuId: number, address: number, kind: KmapKind, open: boolean): void {
    const cpu = this.kernel.cpu(cpuId);
    if (kind === 'global') {
      if (!open) return;
      this.stats.globalKmaps++;
      if (!this.warnedKmap) {
        this.warnedKmap = true;
        this.kernel.log.warn(
          `pmem: kmap() of protected pgmap page ${formatAddress(address)} is not supported (PKS rights are per thread); use kmap_local_page()`,
        );
      }
      return;
    }
    // The window's first page: a direct-map or vmap address, found by a walk (page_to_pgmap).
    const machine = this.kernel.machine;
    const physical = machine.translate(machine.activeSpace(cpuId), address)?.physical;
    if (physical === undefined) return;
    const page = Math.floor(physical / PAGE_SIZE) * PAGE_SIZE;
    if (open) this.pgmap_set_readwrite(cpu, page);
    else this.pgmap_set_noaccess(cpu, page);
  }

  /**
   * The pgmap key's fault callback (V10 mm/memremap.c pgmap_pks_fault_callback): strict lets the
   * fault oops; relaxed warns once, opens the key in the faulting context (pks_update_exception) and
   * lets the access continue.
   */
  private faultCallback(frame: ExceptionFrame, _address: number): boolean {
    this.stats.faults++;
    if (this.faultMode === 'strict') return false;
    if (!this.warned) {
      this.warned = true;
      this.kernel.log.warn(RELAXED_WARNING);
    }
    this.stats.relaxed++;
    return this.kernel.pks_update_exception(frame, this.key!, 0) === 0;
  }
}
