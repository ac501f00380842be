import { ACCESS_OK, Deny, type PointerAuthority } from '@pkeysim/core';
import type { Cpu } from '../cpu';
import type { ExceptionFrame } from '../entry/frame';
import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import { PAGE_SIZE } from '../layout';
import type { Thread } from '../sched/thread';

/**
 * The kmap API designs of the LSFMM 2022 discussion (LWN "Seeking an API for protection keys
 * supervisor"), runnable side by side. Every design answers the same calls, so one workload can ask
 * the question the PKS series left open: how should kernel code get a writable address for a page?
 */
export type KmapApiName =
  'kmap-local' | 'kmap-redefined' | 'vmap' | 'vmap-batched' | 'kmap-local-range' | 'no-direct-map' | 'capability';

/** A multi-page object (a Btrfs 16 KiB extent buffer): contiguous pages, each with a key. */
export interface KmapBlock {
  readonly id: number;
  readonly physical: number;
  readonly pages: number;
  readonly length: number;
  /** page_address() of the first page: where the direct map puts it. */
  readonly directAddress: number;
  /** The key of each page (the block spans pages and keys). */
  readonly keys: readonly number[];
}

/** A pointer: an address and, on a capability machine, the capability it is made through (0 elsewhere). */
export interface KmapPointer {
  readonly address: number;
  readonly cap: number;
}

/** An open mapping of a block. */
export interface KmapMapping {
  readonly block: KmapBlock;
  readonly pointer: KmapPointer;
  readonly write: boolean;
  readonly mapper: Thread;
  /** The thread a long-lived mapping was handed to, while it holds it. */
  receiver: Thread | undefined;
  open: boolean;
}

/** API misuse the designs detect and report instead of silently allowing. */
export type KmapMisuseKind = 'window-leaked-across-threads' | 'unbalanced-unmap' | 'page-address-without-map';

/** One detected misuse: its kind, the thread (name and tid) and a description. */
export interface KmapMisuse {
  readonly kind: KmapMisuseKind;
  readonly thread: string;
  readonly detail: string;
}

/** The outcome of a store or load made through a pointer. */
export interface KmapAccess {
  readonly ok: boolean;
  /** Why it was refused (oops reason or capability violation). */
  readonly reason?: string;
}

/** The design's bookkeeping of what it cost beyond the machine's counters and how long blocks were exposed. */
export interface KmapApiStats {
  /** Byte-ticks during which a block was writable by threads other than the one that mapped it. */
  readonly exposure: number;
  /** Capability checks made (capability design; 0 elsewhere). */
  readonly capabilityChecks: number;
}

/** Options every kmap design takes: the campaign clock and the fault mode. */
export interface KmapApiOptions {
  /** The campaign's clock: simulated time for exposure. */
  readonly clock: () => number;
  /** What a key fault by code holding no mapping does: strict oopses, relaxed warns once and lets it land. */
  readonly mode: 'strict' | 'relaxed';
}

/** A kmap API design: how code maps a block, hands it on, and what that costs and exposes. */
export interface KmapApi {
  /** A design name; a baseline defined outside the kernel (no protection) names itself. */
  readonly name: KmapApiName | 'unprotected';
  /** Where the design comes from (one line). */
  readonly source: string;
  readonly misuses: readonly KmapMisuse[];
  /** Called once per block at allocation, before any access (re-key or unmap its direct-map pages). */
  prepare(block: KmapBlock): void;
  /** Map a block for the current thread of `cpu`. */
  map(cpu: Cpu, block: KmapBlock, write: boolean): KmapMapping;
  /** Unmap; a second unmap of the same mapping is a detected misuse (throws KernelError EINVAL). */
  unmap(cpu: Cpu, mapping: KmapMapping): void;
  /** The current thread of `cpu` takes over a long-lived mapping (an end_io completion finishing a write). */
  receive(cpu: Cpu, mapping: KmapMapping): void;
  /** The receiver is done with the mapping. */
  release(cpu: Cpu, mapping: KmapMapping): void;
  /** A pointer unrelated code holds to an address (a stale or computed pointer: no capability of its own). */
  strayPointer(cpu: Cpu, address: number): KmapPointer;
  /** Write `bytes` at `offset` through a pointer. */
  store(cpu: Cpu, pointer: KmapPointer, offset: number, bytes: Uint8Array): KmapAccess;
  /** Read `length` bytes at `offset` through a pointer. */
  load(cpu: Cpu, pointer: KmapPointer, offset: number, length: number): KmapAccess;
  /** Close pending work (lazy purges) at the end of a run. */
  finish(cpu: Cpu): void;
  /** An access through page_address() with no mapping: true when caught (and reported as a misuse). */
  probePageAddress(cpu: Cpu, block: KmapBlock): boolean;
  /** The design's counters so far: exposure and capability checks. */
  stats(): KmapApiStats;
}

/**
 * What every design shares: the misuse list, exposure accounting on the campaign's clock, the key
 * fault callback that tells a handed-over window (a detected misuse, allowed to go on) from a stray,
 * and accesses through the kernel's checked paths.
 */
export abstract class KmapApiBase implements KmapApi {
  abstract readonly name: KmapApiName | 'unprotected';
  abstract readonly source: string;
  readonly misuses: KmapMisuse[] = [];
  private readonly exposedSince = new Map<number, { at: number; bytes: number; depth: number }>();
  private exposureTotal = 0;
  protected capabilityChecks = 0;
  /** Mappings handed to another thread that is using them, for the fault callback. */
  protected readonly handed: KmapMapping[] = [];
  private relaxedWarned = false;

  constructor(
    protected readonly kernel: Kernel,
    protected readonly options: KmapApiOptions,
  ) {}

  abstract prepare(block: KmapBlock): void;
  abstract map(cpu: Cpu, block: KmapBlock, write: boolean): KmapMapping;
  /** The design's own unmap of an open mapping. */
  protected abstract unmapOpen(cpu: Cpu, mapping: KmapMapping): void;

  unmap(cpu: Cpu, mapping: KmapMapping): void {
    if (!mapping.open) {
      const detail = `${this.name}: block ${mapping.block.id} unmapped twice by ${cpu.current.name}`;
      this.misuse('unbalanced-unmap', cpu.current, detail);
      throw new KernelError('EINVAL', detail);
    }
    this.unmapOpen(cpu, mapping);
    mapping.open = false;
  }

  /**
   * An access through page_address() by code that made no mapping. Returns whether it was caught;
   * a caught one is reported as a misuse, one that went through was silently allowed.
   */
  probePageAddress(cpu: Cpu, block: KmapBlock): boolean {
    const r = this.load(cpu, this.strayPointer(cpu, block.directAddress), 0, 8);
    if (r.ok) return false;
    this.misuse(
      'page-address-without-map',
      cpu.current,
      `${this.name}: page_address() of block ${block.id} read with no mapping: ${r.reason ?? 'refused'}`,
    );
    return true;
  }

  /** A new open mapping of `block` held by the current thread of `cpu`. */
  protected newMapping(cpu: Cpu, block: KmapBlock, write: boolean, pointer: KmapPointer): KmapMapping {
    return { block, pointer, write, mapper: cpu.current, receiver: undefined, open: true };
  }

  receive(cpu: Cpu, mapping: KmapMapping): void {
    mapping.receiver = cpu.current;
    this.handed.push(mapping);
  }

  release(_cpu: Cpu, mapping: KmapMapping): void {
    mapping.receiver = undefined;
    const i = this.handed.indexOf(mapping);
    if (i >= 0) this.handed.splice(i, 1);
  }

  strayPointer(_cpu: Cpu, address: number): KmapPointer {
    return { address, cap: 0 };
  }

  /** A plain CPU write at the pointer's address plus `offset`. */
  store(cpu: Cpu, pointer: KmapPointer, offset: number, bytes: Uint8Array): KmapAccess {
    const r = cpu.write(pointer.address + offset, bytes);
    return r.ok ? { ok: true } : { ok: false, reason: r.oops.reason };
  }

  /** A plain CPU read at the pointer's address plus `offset`. */
  load(cpu: Cpu, pointer: KmapPointer, offset: number, length: number): KmapAccess {
    const r = cpu.read(pointer.address + offset, length);
    return r.ok ? { ok: true } : { ok: false, reason: r.oops.reason };
  }

  finish(_cpu: Cpu): void {}

  /** Exposure (bytes times clock ticks writable by other threads, open blocks counted to now) and capability checks. */
  stats(): KmapApiStats {
    let exposure = this.exposureTotal;
    const now = this.options.clock();
    for (const open of this.exposedSince.values()) exposure += open.bytes * (now - open.at);
    return { exposure, capabilityChecks: this.capabilityChecks };
  }

  /** The block became writable by threads other than its mapper (nested: counted once). */
  protected exposeStart(block: KmapBlock): void {
    const open = this.exposedSince.get(block.id);
    if (open) open.depth++;
    else this.exposedSince.set(block.id, { at: this.options.clock(), bytes: block.length, depth: 1 });
  }

  /** The block's exposure ends (at the outermost of nested starts). */
  protected exposeEnd(block: KmapBlock): void {
    const open = this.exposedSince.get(block.id);
    if (!open || --open.depth > 0) return;
    this.exposureTotal += open.bytes * (this.options.clock() - open.at);
    this.exposedSince.delete(block.id);
  }

  /** Record a misuse by `thread`. */
  protected misuse(kind: KmapMisuseKind, thread: Thread, detail: string): void {
    this.misuses.push({ kind, thread: `${thread.name} (tid ${thread.tid})`, detail });
  }

  /** Re-key every page of the block's direct map with its key (set_memory_pks). */
  protected keyDirectMap(block: KmapBlock): void {
    for (let i = 0; i < block.pages; i++) {
      const result = this.kernel.set_memory_pks(block.directAddress + i * PAGE_SIZE, 1, block.keys[i]);
      if (result < 0)
        throw new KernelError(
          'EINVAL',
          `${this.name}: set_memory_pks of block ${block.id} failed (${result}): ${this.kernel.log.lines().at(-1) ?? ''}`,
        );
    }
  }

  /**
   * Install the fault callback on the blocks' keys. A write by the receiver of a handed-over window is
   * the misuse the series could not support (rights are per thread): reported, then let through by
   * opening the key in the faulting context (pks_update_exception). Anything else is a stray: strict
   * oopses, relaxed warns once and lets it land (V10 memremap.pks_fault_mode).
   */
  protected installFaultCallbacks(keys: readonly number[]): void {
    for (const key of new Set(keys)) {
      this.kernel.pks_set_fault_callback(key, (frame: ExceptionFrame, address: number) => {
        const thread = frame.thread;
        const mapping = this.handed.find(
          (m) => m.receiver === thread && address >= m.pointer.address && address < m.pointer.address + m.block.length,
        );
        if (mapping) {
          this.misuse(
            'window-leaked-across-threads',
            thread,
            `${this.name}: block ${mapping.block.id} mapped by ${mapping.mapper.name} used by ${thread.name}: PKS rights are per thread`,
          );
          return this.openInFrame(frame, key);
        }
        if (this.options.mode === 'strict') return false;
        if (!this.relaxedWarned) {
          this.relaxedWarned = true;
          this.kernel.log.warn(
            `${this.name}: stray write to key ${key}: protection disabled for this access (relaxed)`,
          );
        }
        return this.openInFrame(frame, key);
      });
    }
  }

  private openInFrame(frame: ExceptionFrame, key: number): boolean {
    return this.kernel.pks_update_exception(frame, key, 0) === 0;
  }
}

/** A store or load through a capability: the access counts one check; a refusal names the violation. */
export function capabilityAccess(
  authority: PointerAuthority,
  cpu: Cpu,
  pointer: KmapPointer,
  offset: number,
  bytes: Uint8Array | number,
): KmapAccess {
  const machineCpu = cpu.id;
  const address = pointer.address + offset;
  const code =
    typeof bytes === 'number'
      ? authority.readVia(machineCpu, pointer.cap, address, bytes) === undefined
        ? 1
        : ACCESS_OK
      : authority.writeVia(machineCpu, pointer.cap, address, bytes);
  if (code === ACCESS_OK) return { ok: true };
  return { ok: false, reason: `capability fault (${typeof bytes === 'number' ? 'load' : 'store'})` };
}

/**
 * After a handed-over window: the receiver (which holds no window of its own on these keys) goes back
 * to each key's default, undoing what the fault callback opened in its context.
 */
export function restoreReceiverKeys(kernel: Kernel, cpu: Cpu, mapping: KmapMapping): void {
  for (const key of new Set(mapping.block.keys)) cpu.pks_update_protection(key, kernel.keyDefault(key) ?? Deny.Write);
}
