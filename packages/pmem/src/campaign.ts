import {
  type CampaignOptions,
  type CampaignResult,
  type CampaignRunner,
  type Cpu,
  createKernel,
  KernelError,
  PAGE_SIZE,
  Prng,
  Scheduler,
  type StrayKind,
  type ThreadContext,
  StrayCampaign,
  campaignSize,
} from '@pkeysim/kernel';
import { PmemNamespace } from './namespace';
import { PKS_FAULT_MODES, type PksFaultMode } from './pgmap';

/** The stray writes a PMEM campaign injects, in the order they are dealt out. */
export const PMEM_STRAY_KINDS: readonly StrayKind[] = [
  'random-address',
  'wrong-thread',
  'leaked-global-kmap',
  'write-after-kunmap',
];

/** The workload's size: fixed, so a seed alone decides a run. */
export const PMEM_CAMPAIGN_SHAPE = Object.freeze({
  /** Namespace size in 4 KiB pages. */
  pages: 16,
  workers: 3,
  /** Legitimate operations per worker (driver write, DAX store, kmap_local window, kmap_atomic store). */
  opsPerWorker: 20,
  strays: 24,
  /** Bytes per legitimate record and per stray write. */
  recordBytes: 32,
  strayBytes: 8,
});

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
 * A PMEM stray-write campaign: worker threads write records through the driver path, the DAX path
 * and kmap_local/kmap_atomic windows on the seeded scheduler, a completion interrupt writes through
 * kmap_atomic, and unrelated code injects stray writes (random addresses, the wrong thread, a leaked
 * global kmap, a write after kunmap). Then the machine reboots and the namespace is compared with
 * what the legitimate writes meant it to hold.
 */
export function runPmemCampaign(options: CampaignOptions): CampaignResult {
  const mode = options.mode as PksFaultMode;
  if (!PKS_FAULT_MODES.includes(mode))
    throw new KernelError(
      'EINVAL',
      `pmem campaign: mode ${JSON.stringify(options.mode)} is not a PMEM fault mode (${PKS_FAULT_MODES.join(', ')})`,
    );
  const arch = options.arch ?? 'x86';
  const shape = PMEM_CAMPAIGN_SHAPE;
  const size = campaignSize(options, shape);
  const kernel = createKernel({ arch, cpus: size.cpus, seed: options.seed, keyDesign: 'static' });
  const ns = PmemNamespace.create(kernel, { pages: shape.pages, faultMode: mode, protection: options.protection });
  // The workload has its own stream, so the scheduler's decisions and the workload's choices stay independent.
  const prng = new Prng((options.seed ^ 0x9e3779b9) >>> 0);
  const scheduler = new Scheduler(kernel, options.seed);

  const campaign = new StrayCampaign(kernel, scheduler, {
    consumer: 'pmem',
    options,
    mode,
    arch,
    size,
    kinds: PMEM_STRAY_KINDS,
  });
  const openWindows: HeldWindow[] = [];
  // The addresses legacy code leaked, in a typed array: kernel addresses are not small integers,
  // and an array's element kind changing at the first one would deoptimize its readers.
  const leaked = new Float64Array(size.strays);
  let leakedCount = 0;
  const leak = (address: number) => {
    leaked[leakedCount++] = address;
  };
  // Random bytes for one store, in a scratch buffer per size: every store copies what it writes (into
  // the machine and the shadow), and each buffer is used before the next draw of its size.
  const scratch = new Map<number, Uint8Array>();
  const bytes = (n: number) => {
    let out = scratch.get(n);
    if (out === undefined) scratch.set(n, (out = new Uint8Array(n)));
    for (let i = 0; i < n; i++) out[i] = 1 + prng.below(255);
    return out;
  };
  const pageOffset = (room: number) => prng.below(PAGE_SIZE - room);

  // The threads' generators only yield; each operation is a plain function they call, so what is
  // compiled for them is small and the operations are compiled once, apart from the generators.
  function* worker(self: ThreadContext) {
    for (let op = 0; op < size.opsPerWorker; op++) {
      const window = workerOp(self.cpu, self.thread.tid);
      if (window !== undefined) {
        yield;
        closeWindow(self.cpu, window);
      }
      yield;
    }
  }

  /** One worker operation; the window it left open across a preemption point, if any. */
  function workerOp(cpu: Cpu, tid: number): HeldWindow | undefined {
    const index = prng.below(shape.pages);
    const record = bytes(shape.recordBytes);
    const offset = pageOffset(shape.recordBytes);
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
        openWindows.push(window);
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

  function closeWindow(cpu: Cpu, window: HeldWindow): void {
    ns.store(cpu, window.address + pageOffset(shape.recordBytes), bytes(shape.recordBytes));
    openWindows.splice(openWindows.indexOf(window), 1);
    cpu.kunmap_local(window.address);
  }

  /** Legacy code that kmap()s a page and leaves the address where another thread finds it. */
  function* leaker(self: ThreadContext, index: number, delay: number) {
    for (let i = 0; i < delay; i++) yield;
    const page = ns.page(index);
    leak(self.cpu.kmap(page));
    for (let i = 0; i < MAX_WAIT; i++) yield;
    self.cpu.kunmap(page);
  }

  function strayWrite(cpu: Cpu, kind: StrayKind, address: number): void {
    campaign.strayStore(cpu, kind, address, bytes(shape.strayBytes));
  }

  function* stray(self: ThreadContext, kind: StrayKind, delay: number) {
    for (let i = 0; i < delay; i++) yield;
    const offset = pageOffset(shape.strayBytes);
    switch (kind) {
      case 'random-address':
        strayWrite(self.cpu, kind, ns.address + prng.below(ns.size - shape.strayBytes));
        return;
      case 'wrong-thread':
        // Aim at a window another thread holds open right now (its rights are not ours).
        for (let i = 0; i < MAX_WAIT && openWindows.length === 0; i++) yield;
        strayWrite(self.cpu, kind, heldWindowAddress() + offset);
        return;
      case 'leaked-global-kmap':
        for (let i = 0; i < MAX_WAIT && leakedCount === 0; i++) yield;
        strayWrite(self.cpu, kind, leakedAddress() + offset);
        return;
      default: {
        // A legitimate window and store, then a store through the stale address after kunmap.
        const address = legitimateWindow(self.cpu);
        yield;
        strayWrite(self.cpu, kind, address + offset);
      }
    }
  }

  const heldWindowAddress = () => (openWindows.length > 0 ? prng.pick(openWindows).address : ns.address);
  const leakedAddress = () => (leakedCount > 0 ? leaked[prng.below(leakedCount)] : ns.address);
  /** A kmap_local window, one store through it, kunmap_local: the address it used. */
  function legitimateWindow(cpu: Cpu): number {
    const address = cpu.kmap_local_page(ns.page(prng.below(shape.pages)));
    ns.store(cpu, address + pageOffset(shape.recordBytes), bytes(shape.recordBytes));
    cpu.kunmap_local(address);
    return address;
  }

  campaign.spawnWorkers('pmem-worker', worker);
  campaign.spawnStrays((kind, s, spawn) => {
    const delay = prng.below(40);
    if (kind === 'leaked-global-kmap') {
      const index = prng.below(shape.pages);
      const leakDelay = prng.below(20);
      spawn(`legacy-kmap/${s}`, (self) => leaker(self, index, leakDelay));
    }
    return (self) => stray(self, kind, delay);
  });
  // The completion interrupt: a handler's own kmap_atomic window, with its own nesting count.
  let completions = 0;
  const counter = new Uint8Array(8);
  const counterView = new DataView(counter.buffer);
  scheduler.onInterrupt((cpu) => {
    const address = cpu.kmap_atomic(ns.page(0));
    // The counter as a little-endian float64, in one reused buffer (the store copies it).
    counterView.setFloat64(0, ++completions, true);
    ns.store(cpu, address + COMPLETION_SLOT, counter);
    cpu.kunmap_atomic(address);
  });

  const { cost, log } = campaign.run();
  const check = ns.rebootAndVerify();
  return campaign.result(cost, campaignNotes(ns, log, check.pagesCorrupted), {
    bytes_corrupted_after_reboot: check.bytesCorrupted,
  });
}

/** The lines worth showing: the degradation notice, the first warnings, the oops count and the first oops. */
function campaignNotes(ns: PmemNamespace, log: readonly string[], pagesCorrupted: number): string[] {
  const notes: string[] = [];
  if (ns.protection.notice) notes.push(ns.protection.notice);
  else
    notes.push(
      `namespace: ${ns.pages} pages behind a dev_pagemap with key ${ns.protection.key} (${ns.protection.faultMode} mode)`,
    );
  // One pass over the log (it is long): the first three distinct warnings, the oopses counted, the first key line.
  const warnings = new Set<string>();
  let oopses = 0;
  let firstOops = '';
  let reason: string | undefined;
  for (const line of log) {
    if (line.startsWith('WARNING: ')) {
      if (warnings.size < 3) warnings.add(line);
    } else if (line.startsWith('BUG: unable to handle page fault')) {
      if (oopses++ === 0) firstOops = line;
    } else if (reason === undefined && line.startsWith('key: ')) reason = line;
  }
  notes.push(...warnings);
  const relaxed = ns.protection.stats.relaxed;
  if (relaxed > 0)
    notes.push(`relaxed mode: ${relaxed} key fault(s) warned about once, then let through (pks_update_exception)`);
  if (oopses > 0) notes.push(`${oopses} oops(es); first: ${firstOops}${reason ? ` (${reason})` : ''}`);
  if (pagesCorrupted > 0)
    notes.push(`after reboot: ${pagesCorrupted} of ${ns.pages} namespace pages differ from the intended contents`);
  return notes;
}

/** The PMEM entry of `pkeysim campaign`'s registry. */
export const pmemCampaign: CampaignRunner = {
  consumer: 'pmem',
  description: 'PMEM stray-write protection: a persistent namespace behind a PKS-protected dev_pagemap',
  modes: PKS_FAULT_MODES,
  knobs: ['threads', 'ops', 'cpus'],
  run: runPmemCampaign,
};
