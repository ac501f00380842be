import {
  type Cpu,
  PAGE_SIZE,
  type Prng,
  type StrayCampaign,
  type StrayKind,
  type ThreadContext,
} from '@pkeysim/kernel';
import type { PmemNamespace } from './namespace';

/** The workload's size: what one PMEM campaign run's threads do. */
export interface PmemWorkloadShape {
  readonly pages: number;
  readonly recordBytes: number;
  readonly strayBytes: number;
}

/** A kmap_local window a worker holds across a preemption point. */
interface HeldWindow {
  readonly tid: number;
  readonly address: number;
}

/** How long a stray waits for a window or a leaked kmap to aim at before it falls back. */
const MAX_WAIT = 30;

/** Where the completion interrupt keeps its counter: the first 8 bytes of namespace page 0. */
const COMPLETION_SLOT = 0;

/**
 * One PMEM campaign run's workload state and operations. The threads' generators (below) only
 * yield and call these methods: code on a class and module-level generators lives as long as the
 * process, so V8 keeps what it compiled for them across runs (closures made per run are recompiled
 * after a collection frees the previous run's), and each generator compiles small.
 */
export class PmemWorkload {
  private readonly openWindows: HeldWindow[] = [];
  // The addresses legacy code leaked, in a typed array: kernel addresses are not small integers,
  // and an array's element kind changing at the first one would deoptimize its readers.
  private readonly leaked: Float64Array;
  private leakedCount = 0;
  // Random bytes for one store, in a scratch buffer per size: every store copies what it writes (into
  // the machine and the shadow), and each buffer is used before the next draw of its size.
  private readonly scratch = new Map<number, Uint8Array>();
  private completions = 0;
  private readonly counter = new Uint8Array(8);
  private readonly counterView = new DataView(this.counter.buffer);

  constructor(
    private readonly ns: PmemNamespace,
    private readonly prng: Prng,
    private readonly campaign: StrayCampaign,
    private readonly shape: PmemWorkloadShape,
    strays: number,
  ) {
    this.leaked = new Float64Array(strays);
  }

  bytes(n: number): Uint8Array {
    let out = this.scratch.get(n);
    if (out === undefined) this.scratch.set(n, (out = new Uint8Array(n)));
    for (let i = 0; i < n; i++) out[i] = 1 + this.prng.below(255);
    return out;
  }

  pageOffset(room: number): number {
    return this.prng.below(PAGE_SIZE - room);
  }

  /** One worker operation; the window it left open across a preemption point, if any. */
  workerOp(cpu: Cpu, tid: number): HeldWindow | undefined {
    const { ns, prng, shape } = this;
    const index = prng.below(shape.pages);
    const record = this.bytes(shape.recordBytes);
    const offset = this.pageOffset(shape.recordBytes);
    switch (prng.below(4)) {
      case 0: // the block driver: pmem_do_write
        ns.write(cpu, index * PAGE_SIZE + offset, record);
        return undefined;
      case 1: {
        // DAX: dax_read_lock, dax_direct_access, store, dax_read_unlock
        const id = ns.dax_read_lock(cpu);
        const { kaddr } = ns.dax_direct_access(cpu, index, 1);
        ns.store(cpu, kaddr + offset, record);
        ns.dax_read_unlock(cpu, id);
        return undefined;
      }
      case 2: {
        // A kmap_local window held across a preemption point: other threads run meanwhile.
        const address = cpu.kmap_local_page(ns.page(index));
        const window: HeldWindow = { tid, address };
        this.openWindows.push(window);
        ns.store(cpu, address + offset, record);
        return window;
      }
      default: {
        const address = cpu.kmap_atomic(ns.page(index));
        ns.store(cpu, address + offset, record);
        cpu.kunmap_atomic(address);
        return undefined;
      }
    }
  }

  closeWindow(cpu: Cpu, window: HeldWindow): void {
    const shape = this.shape;
    this.ns.store(cpu, window.address + this.pageOffset(shape.recordBytes), this.bytes(shape.recordBytes));
    this.openWindows.splice(this.openWindows.indexOf(window), 1);
    cpu.kunmap_local(window.address);
  }

  leak(address: number): void {
    this.leaked[this.leakedCount++] = address;
  }

  get hasOpenWindow(): boolean {
    return this.openWindows.length > 0;
  }

  get hasLeak(): boolean {
    return this.leakedCount > 0;
  }

  strayWrite(cpu: Cpu, kind: StrayKind, address: number): void {
    this.campaign.strayStore(cpu, kind, address, this.bytes(this.shape.strayBytes));
  }

  randomAddress(): number {
    return this.ns.address + this.prng.below(this.ns.size - this.shape.strayBytes);
  }

  heldWindowAddress(): number {
    return this.openWindows.length > 0 ? this.prng.pick(this.openWindows).address : this.ns.address;
  }

  leakedAddress(): number {
    return this.leakedCount > 0 ? this.leaked[this.prng.below(this.leakedCount)] : this.ns.address;
  }

  /** A kmap_local window, one store through it, kunmap_local: the address it used. */
  legitimateWindow(cpu: Cpu): number {
    const { ns, shape } = this;
    const address = cpu.kmap_local_page(ns.page(this.prng.below(shape.pages)));
    ns.store(cpu, address + this.pageOffset(shape.recordBytes), this.bytes(shape.recordBytes));
    cpu.kunmap_local(address);
    return address;
  }

  /** The completion interrupt: a handler's own kmap_atomic window, with its own nesting count. */
  completion(cpu: Cpu): void {
    const address = cpu.kmap_atomic(this.ns.page(0));
    // The counter as a little-endian float64, in one reused buffer (the store copies it).
    this.counterView.setFloat64(0, ++this.completions, true);
    this.ns.store(cpu, address + COMPLETION_SLOT, this.counter);
    cpu.kunmap_atomic(address);
  }
}

export function* pmemWorker(w: PmemWorkload, self: ThreadContext, ops: number) {
  for (let op = 0; op < ops; op++) {
    const window = w.workerOp(self.cpu, self.thread.tid);
    if (window !== undefined) {
      yield;
      w.closeWindow(self.cpu, window);
    }
    yield;
  }
}

/** Legacy code that kmap()s a page and leaves the address where another thread finds it. */
export function* pmemLeaker(w: PmemWorkload, ns: PmemNamespace, self: ThreadContext, index: number, delay: number) {
  for (let i = 0; i < delay; i++) yield;
  const page = ns.page(index);
  w.leak(self.cpu.kmap(page));
  for (let i = 0; i < MAX_WAIT; i++) yield;
  self.cpu.kunmap(page);
}

export function* pmemStray(w: PmemWorkload, self: ThreadContext, kind: StrayKind, delay: number, strayBytes: number) {
  for (let i = 0; i < delay; i++) yield;
  const offset = w.pageOffset(strayBytes);
  switch (kind) {
    case 'random-address':
      w.strayWrite(self.cpu, kind, w.randomAddress());
      return;
    case 'wrong-thread':
      // Aim at a window another thread holds open right now (its rights are not ours).
      for (let i = 0; i < MAX_WAIT && !w.hasOpenWindow; i++) yield;
      w.strayWrite(self.cpu, kind, w.heldWindowAddress() + offset);
      return;
    case 'leaked-global-kmap':
      for (let i = 0; i < MAX_WAIT && !w.hasLeak; i++) yield;
      w.strayWrite(self.cpu, kind, w.leakedAddress() + offset);
      return;
    default: {
      // A legitimate window and store, then a store through the stale address after kunmap.
      const address = w.legitimateWindow(self.cpu);
      yield;
      w.strayWrite(self.cpu, kind, address + offset);
    }
  }
}
