import {
  ACCESS_OK,
  type AccessKind,
  Deny,
  type DomainSpace,
  echoValue,
  type Machine,
  type RightsState,
} from '@pkeysim/core';
import type { EntryCode } from './entry/entry-code';
import type { ExceptionFrame, FrameKind } from './entry/frame';
import { KernelError } from './errors';
import { type FaultHandler, MAX_HANDLED_FAULTS } from './fault';
import type { AccessWindows } from './mm/kmap';
import type { OopsReport } from './oops';
import type { PanicStatus } from './panic';
import type { Protection } from './rights/protection';
import type { Sched } from './sched/sched';
import type { Thread } from './sched/thread';
import { requireAccessKind, requireAddress, requireInteger } from './validate';

/** The most bytes one read() copies out: 1 GiB, more than any page range the model maps at once. */
const MAX_READ_BYTES = 2 ** 30;

/** The outcome of a kernel access: done (after `handledFaults` faults its key's callback handled), or an oops. */
export type AccessResult =
  | { readonly ok: true; readonly handledFaults: number }
  | { readonly ok: false; readonly handledFaults: number; readonly oops: OopsReport };

/** The outcome of a kernel read: the bytes (after `handledFaults` handled faults), or an oops. */
export type ReadResult =
  | { readonly ok: true; readonly handledFaults: number; readonly data: Uint8Array }
  | { readonly ok: false; readonly handledFaults: number; readonly oops: OopsReport };

/**
 * One CPU as kernel code running on it sees it: "current", this_cpu, and every API that acts on
 * the current context (rights updates, entry, accesses, access windows).
 */
export class Cpu {
  /**
   * @internal Built by the kernel, one per CPU. `keySpace` is the supervisor key space when
   * supervisor keys work, otherwise undefined.
   */
  constructor(
    readonly id: number,
    private readonly machine: Machine,
    private readonly keySpace: DomainSpace | undefined,
    private readonly sched: Sched,
    private readonly entry: EntryCode,
    private readonly faults: FaultHandler,
    private readonly protection: Protection,
    private readonly windows: AccessWindows,
    private readonly panic: PanicStatus,
  ) {}

  /** The thread running here (during a handler: the interrupted thread, as `current` in Linux). */
  get current(): Thread {
    return this.sched.current(this.id);
  }

  /** The live rights register (RDMSR IA32_PKRS); empty without supervisor keys. */
  rights(): RightsState {
    return this.keySpace ? this.keySpace.read(this.id) : [];
  }

  // --- rights updates (V10 include/linux/pks.h) -------------------------------------------------

  /** pks_update_protection(key, prot): prot is 0, PKEY_DISABLE_ACCESS or PKEY_DISABLE_WRITE. 0 or -errno. */
  pks_update_protection(key: number, prot: number): number {
    return this.protection.update(this.id, key, prot);
  }
  /** pks_set_noaccess(): deny all access through `key` on this CPU. */
  pks_set_noaccess(key: number): number {
    return this.pks_update_protection(key, Deny.Access);
  }
  /** pks_set_readwrite(): allow reads and writes through `key` on this CPU. */
  pks_set_readwrite(key: number): number {
    return this.pks_update_protection(key, Deny.None);
  }
  /** pks_mk_readonly (V3..V7). */
  pks_set_readonly(key: number): number {
    return this.pks_update_protection(key, Deny.Write);
  }

  // --- scheduling ---------------------------------------------------------------------------------

  /** Context switch to `next` (which must be on this CPU's runqueue). */
  switchTo(next: Thread): void {
    this.sched.switchTo(this.id, next);
  }

  // --- entry code -----------------------------------------------------------------------------------

  /** Enter an exception, interrupt or NMI handler on this CPU; returns its frame. */
  enter(kind: FrameKind, vector?: string): ExceptionFrame {
    return this.entry.enter(this.id, kind, vector);
  }
  /** Return from the innermost handler (`frame`, when given, must be it). */
  exit(frame?: ExceptionFrame): void {
    this.entry.exit(this.id, frame);
  }
  /** Run `handler` as an exception/interrupt/NMI: entry, handler, exit (also when it throws). */
  handle<T>(kind: FrameKind, handler: (frame: ExceptionFrame) => T, vector?: string): T {
    const frame = this.enter(kind, vector);
    try {
      return handler(frame);
    } finally {
      if (frame.live && !this.panic.report) this.exit(frame);
    }
  }
  /** Run `handler` as an interrupt (vector `vector`, default irq). */
  interrupt<T>(handler: (frame: ExceptionFrame) => T, vector = 'irq'): T {
    return this.handle('interrupt', handler, vector);
  }
  /** Run `handler` as an NMI. */
  nmi<T>(handler: (frame: ExceptionFrame) => T): T {
    return this.handle('nmi', handler, 'NMI');
  }

  // --- accesses by kernel code running here -------------------------------------------------------

  // An access that does not fault returns the one shared DONE result: nothing is allocated for it.
  /** A kernel access of kind `kind` at `virtual`; faults go to the fault handler. */
  access(virtual: number, kind: AccessKind): AccessResult {
    requireAddress(virtual, 'access: address');
    requireAccessKind(kind, 'access');
    this.assertAlive();
    if (this.machine.access(this.id, virtual, kind) === ACCESS_OK) return DONE;
    return withoutValue(
      this.recover(() => (this.machine.access(this.id, virtual, kind) === ACCESS_OK ? true : undefined)),
    );
  }
  /** A kernel write of `bytes` at `virtual`; faults go to the fault handler. */
  write(virtual: number, bytes: Uint8Array): AccessResult {
    requireAddress(virtual, 'write: address');
    if (!(bytes instanceof Uint8Array))
      throw new KernelError('EINVAL', `write: bytes must be a Uint8Array, got ${echoValue(bytes)}`);
    this.assertAlive();
    if (this.machine.write(this.id, virtual, bytes) === ACCESS_OK) return DONE;
    return withoutValue(
      this.recover(() => (this.machine.write(this.id, virtual, bytes) === ACCESS_OK ? true : undefined)),
    );
  }
  /** A kernel read of `length` bytes at `virtual`; faults go to the fault handler. */
  read(virtual: number, length: number): ReadResult {
    requireAddress(virtual, 'read: address');
    requireInteger(length, 'read: length', 0, MAX_READ_BYTES);
    this.assertAlive();
    const data = this.machine.read(this.id, virtual, length);
    if (data !== undefined) return { ok: true, handledFaults: 0, data };
    const result = this.recover(() => this.machine.read(this.id, virtual, length));
    return result.ok ? { ok: true, handledFaults: result.handledFaults, data: result.value } : result;
  }

  // --- access windows ------------------------------------------------------------------------------

  /** kmap_local_page(): map a page for the current thread; returns its address. */
  kmap_local_page(page: number): number {
    return this.windows.kmapLocalPage(this.id, page);
  }
  /** kunmap_local(): unmap the most recent kmap_local mapping. */
  kunmap_local(address: number): void {
    this.windows.kunmapLocal(this.id, address);
  }
  /** kmap_atomic(): kmap_local_page that also disables preemption and page faults. */
  kmap_atomic(page: number): number {
    return this.windows.kmapAtomic(this.id, page);
  }
  /** kunmap_atomic(): unmap the most recent kmap_atomic mapping. */
  kunmap_atomic(address: number): void {
    this.windows.kunmapAtomic(this.id, address);
  }
  /** kmap_local_range(): a local mapping of a multi-page range (proposed at LSFMM 2022). */
  kmap_local_range(address: number, length: number): number {
    return this.windows.kmapLocalRange(this.id, address, length);
  }
  /** kmap(): a global mapping; it opens the key for the calling thread only. */
  kmap(page: number): number {
    return this.windows.kmap(this.id, page);
  }
  /** kunmap(): release a kmap() mapping. */
  kunmap(page: number): void {
    this.windows.kunmap(this.id, page);
  }

  private assertAlive(): void {
    this.panic.assertRunning();
  }

  /**
   * The slow path after an attempt faulted: the fault goes to the handler; handled, the access is
   * retried (up to MAX_HANDLED_FAULTS times), otherwise the oops is the result.
   */
  private recover<T>(
    attempt: () => T | undefined,
  ): { ok: true; handledFaults: number; value: T } | { ok: false; handledFaults: number; oops: OopsReport } {
    for (let handled = 0; ;) {
      const fault = this.machine.lastFault(this.id);
      if (!fault) throw new KernelError('EFAULT', `CPU ${this.id}: the access failed without a fault report`);
      if (handled >= MAX_HANDLED_FAULTS)
        return { ok: false, handledFaults: handled, oops: this.faults.persistent(this.id, fault) };
      const outcome = this.faults.handle(this.id, fault);
      if (!outcome.retry) return { ok: false, handledFaults: handled, oops: outcome.oops };
      handled++;
      const value = attempt();
      if (value !== undefined) return { ok: true, handledFaults: handled, value };
    }
  }
}

/** The result of every access that did not fault (immutable, shared). */
const DONE: AccessResult = Object.freeze({ ok: true, handledFaults: 0 });

function withoutValue(
  result: { ok: true; handledFaults: number } | { ok: false; handledFaults: number; oops: OopsReport },
): AccessResult {
  return result.ok ? { ok: true, handledFaults: result.handledFaults } : result;
}
