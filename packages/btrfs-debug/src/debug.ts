import { Deny } from '@pkeysim/core';
import {
  type ExceptionFrame,
  formatAddress,
  type Kernel,
  KernelError,
  kmapHooks,
  type KmapHookPoints,
  PAGE_SIZE,
  relaxReadFault,
} from '@pkeysim/kernel';

/**
 * What a stray modifier does (the series' pks_fault_mode, V10 mm/memremap.c): strict oopses the
 * culprit; relaxed warns and lets the write land, so one run finds every culprit.
 */
export type BtrfsDebugMode = 'strict' | 'relaxed';
/** Every accepted {@link BtrfsDebugMode}. */
export const BTRFS_DEBUG_MODES: readonly BtrfsDebugMode[] = ['strict', 'relaxed'];

/** The static key name the debugging consumer uses (write-disabled at rest). */
export const BTRFS_DEBUG_KEY = 'PKS_KEY_BTRFS_DEBUG';

/** Pages under watch: a name for reports and the direct-map range. */
export interface WatchedRange {
  readonly name: string;
  readonly address: number;
  readonly length: number;
}

/** One caught stray modifier: who, where in the code, and what it hit. */
export interface BtrfsDebugReport {
  readonly thread: string;
  readonly tid: number;
  /** The call site: what the caller's `callSite` said was running (a scenario's program label). */
  readonly callSite: string;
  readonly object: string;
  readonly offset: number;
  readonly address: number;
  readonly mode: BtrfsDebugMode;
  readonly message: string;
}

/** Options for the Btrfs debugging consumer: the protecting key, the fault mode and call-site naming. */
export interface BtrfsDebugOptions {
  /** The key protecting the pages (a static consumer's, or one from pks_key_alloc). */
  readonly key: number;
  /** What a stray write does (default strict). */
  readonly mode?: BtrfsDebugMode;
  /** Names the code running on a CPU, for reports (default: unknown). */
  readonly callSite?: (cpu: number) => string | undefined;
}

/**
 * The Btrfs debugging patch, on PKS. Chris Mason at LSFMM 2022: Btrfs developers "have a debugging
 * patch that makes pages read-only so that they can look at the resulting crashes and see who is
 * modifying pages when they shouldn't be. PKS would be a useful way to implement this." Watched
 * pages carry a key that is write-disabled at rest; only declared writers open it, for their own
 * thread, between begin() and end(). Any other write faults, and the report names the thread and
 * the call site.
 */
export class BtrfsDebug {
  readonly key: number;
  readonly mode: BtrfsDebugMode;
  readonly reports: BtrfsDebugReport[] = [];
  private readonly ranges: WatchedRange[] = [];
  private readonly writers = new Set<string>();
  private readonly hooks: KmapHookPoints;

  constructor(
    private readonly kernel: Kernel,
    private readonly options: BtrfsDebugOptions,
  ) {
    this.key = options.key;
    this.mode = options.mode ?? 'strict';
    if (!BTRFS_DEBUG_MODES.includes(this.mode))
      throw new KernelError('EINVAL', `btrfs-debug: mode must be strict or relaxed, got ${String(this.mode)}`);
    this.hooks = kmapHooks(kernel);
    const result = kernel.pks_set_fault_callback(this.key, (frame, address, write) =>
      this.fault(frame, address, write),
    );
    if (result < 0)
      throw new KernelError('EINVAL', `btrfs-debug: cannot install the fault callback of key ${this.key} (${result})`);
  }

  /** Watch `pages` pages at a direct-map address: re-key them (set_memory_pks) so writes need a writer. */
  watch(name: string, address: number, pages: number): WatchedRange {
    const result = this.kernel.set_memory_pks(address, pages, this.key);
    if (result < 0) throw new KernelError('EINVAL', `btrfs-debug: set_memory_pks(${name}) failed (${result})`);
    const range = { name, address, length: pages * PAGE_SIZE };
    this.ranges.push(range);
    return range;
  }

  /** Declare a function that may modify watched pages (e.g. btrfs_set_token_32, write_extent_buffer). */
  declareWriter(name: string): void {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name))
      throw new KernelError('EINVAL', `btrfs-debug: writer name ${JSON.stringify(name)} is not an identifier`);
    this.writers.add(name);
  }

  get declaredWriters(): readonly string[] {
    return [...this.writers];
  }

  /** A declared writer starts modifying: opens the key for the current context of `cpu` (nesting). */
  begin(cpu: number, writer: string): void {
    if (!this.writers.has(writer))
      throw new KernelError(
        'EINVAL',
        `btrfs-debug: ${writer} is not a declared writer (declared: ${this.declaredWriters.join(', ') || 'none'})`,
      );
    this.hooks.openKey(cpu, this.key);
  }

  /** The writer is done: closes the key again (an unbalanced end is EINVAL and changes nothing). */
  end(cpu: number, writer: string): void {
    if (!this.writers.has(writer)) throw new KernelError('EINVAL', `btrfs-debug: ${writer} is not a declared writer`);
    this.hooks.closeKey(cpu, this.key);
  }

  private fault(frame: ExceptionFrame, address: number, write: boolean): boolean {
    // A dynamic key rests access-disabled: reads are not what this consumer watches.
    if (!write) return relaxReadFault(this.kernel, frame, this.key, write);
    const range = this.ranges.find((r) => address >= r.address && address < r.address + r.length);
    const thread = frame.thread;
    const callSite = this.options.callSite?.(frame.cpu) || 'unknown call site';
    const where = range ? `${range.name}+0x${(address - range.address).toString(16)}` : formatAddress(address);
    const message = `btrfs-debug: stray write to ${where} by ${thread.name} (tid ${thread.tid}) at ${callSite}; declared writers: ${this.declaredWriters.join(', ') || 'none'}`;
    this.reports.push({
      thread: thread.name,
      tid: thread.tid,
      callSite,
      object: range?.name ?? '?',
      offset: range ? address - range.address : 0,
      address,
      mode: this.mode,
      message,
    });
    this.kernel.log.warn(message);
    if (this.mode === 'strict') return false;
    // Relaxed: warn and continue, the write lands (this context keeps the key open until it returns).
    return this.kernel.pks_update_exception(frame, this.key, Deny.None) === 0;
  }
}
