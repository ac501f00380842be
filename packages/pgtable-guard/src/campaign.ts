import {
  type CampaignOptions,
  type CampaignResult,
  type CampaignRunner,
  type Cpu,
  createKernel,
  formatAddress,
  type GrantedRights,
  KernelError,
  PAGE_SIZE,
  Prng,
  Scheduler,
  type StrayKind,
  type ThreadContext,
  StrayCampaign,
  campaignSize,
} from '@pkeysim/kernel';
import type { PgtableMode } from './boot-params';
import { indexAt, levelSpan } from './entry-format';
import { type GuardedMm, PgtableGuard } from './guard';
import { grantedBy } from './leaf-report';
import { ENTRY_BYTES, type EntryValue, entryBytes, type PageProt } from './pte';

/** The page-table fault modes: strict (the boot default) and soft (`pkstablessoft`). */
export const PGTABLE_MODES: readonly PgtableMode[] = ['strict', 'soft'];

/** The stray writes a page-table campaign injects, dealt out in this order. */
export const PGTABLE_STRAY_KINDS: readonly StrayKind[] = [
  'random-address',
  'wrong-thread',
  'write-after-kunmap',
  'pte-bit-flip',
];

/** The workload's size: fixed, so a seed alone decides a run. */
export const PGTABLE_CAMPAIGN_SHAPE = Object.freeze({
  /** Guarded address spaces (processes). */
  addressSpaces: 2,
  /** User pages each address space may map (spread over two PMDs so several tables exist). */
  pagesPerSpace: 24,
  workers: 3,
  opsPerWorker: 20,
  strays: 24,
});

const MAX_WAIT = 30;
/** Bytes one PTE table maps (2 MiB). */
const PMD_SPAN = levelSpan(2);
/** Where the workload maps: 0x400000 upwards, across a PMD boundary at 0x600000. */
const USER_BASE = 0x500000;

/**
 * The protections the workload maps with, one shared frozen object per combination of rights
 * (index user*4 + writable*2 + executable): a page's intent allocates no protection object.
 */
const PROTS: readonly PageProt[] = Array.from({ length: 8 }, (_, i) =>
  Object.freeze({ user: (i & 4) !== 0, writable: (i & 2) !== 0, executable: (i & 1) !== 0 }),
);
const protOf = (user: boolean, writable: boolean, executable: boolean): PageProt =>
  PROTS[(user ? 4 : 0) + (writable ? 2 : 0) + (executable ? 1 : 0)];
/** A workload protection without write permission (what ptep_set_wrprotect leaves). */
const readOnly = (prot: PageProt): PageProt => protOf(prot.user, false, prot.executable);

/** A page-table window a worker holds across a preemption point. */
interface HeldWindow {
  readonly tid: number;
  readonly ptep: number;
}

/** One page a legitimate setter meant to map. */
interface Intended {
  readonly physical: number;
  readonly prot: PageProt;
}

/**
 * A page-table stray-write campaign: worker threads map, unmap, write-protect and age pages of
 * guarded address spaces through the setters on the seeded scheduler, some holding a page-table
 * window across a preemption point, while unrelated code stores to page-table pages: at random
 * addresses, from the wrong thread while a window is open, through a stale pointer after a setter
 * closed its window, and as a bit flip that would grant U/S or R/W. The guarded tables are the ones
 * the MMU walks, so a landed store takes effect by itself; the rights it granted are reported.
 */
export function runPgtableCampaign(options: CampaignOptions): CampaignResult {
  const mode = options.mode as PgtableMode;
  if (!PGTABLE_MODES.includes(mode)) {
    throw new KernelError(
      'EINVAL',
      `pgtable campaign: mode ${JSON.stringify(options.mode)} is not a page-table mode (${PGTABLE_MODES.join(', ')})`,
    );
  }
  const arch = options.arch ?? 'x86';
  const shape = PGTABLE_CAMPAIGN_SHAPE;
  const size = campaignSize(options, shape);
  // Page-table protection (Edgecombe's series on top of V10) gives the static key PKS_KEY_PG_TABLES.
  const kernel = createKernel({
    arch,
    cpus: size.cpus,
    seed: options.seed,
    keyDesign: 'static',
    pageTableProtection: true,
  });
  const cmdline = [options.protection ? '' : 'nopkstables', mode === 'soft' ? 'pkstablessoft' : ''].join(' ');
  const guard = new PgtableGuard(kernel, { cmdline });
  const prng = new Prng((options.seed ^ 0x5bd1e995) >>> 0);
  const scheduler = new Scheduler(kernel, options.seed);

  // Setup (not measured): the address spaces and the frames their pages map.
  const mms: GuardedMm[] = [];
  for (let i = 0; i < size.spaces; i++) mms.push(guard.pgd_alloc(0));
  const frames = kernel.alloc_pages(shape.pagesPerSpace);
  const intended = mms.map(() => new Map<number, Intended>());
  const vaOf = (slot: number) => USER_BASE + slot * PAGE_SIZE * 11; // spread over two PMDs
  const randomProt = (): PageProt => {
    switch (prng.below(3)) {
      case 0:
        return protOf(true, true, false);
      case 1:
        return protOf(true, false, true); // text
      default:
        return protOf(false, true, false); // kernel-only (e.g. an LDT page)
    }
  };

  const campaign = new StrayCampaign(kernel, scheduler, {
    consumer: 'pgtable',
    options,
    mode,
    arch,
    size,
    kinds: PGTABLE_STRAY_KINDS,
  });
  const granted: GrantedRights[] = [];
  const openWindows: HeldWindow[] = [];

  // The threads' generators only yield; each operation is a plain function they call, so what is
  // compiled for them is small and the operations are compiled once, apart from the generators.
  function* worker(self: ThreadContext) {
    for (let op = 0; op < size.opsPerWorker; op++) {
      const window = workerOp(self.cpu.id, self.thread.tid);
      if (window !== undefined) {
        yield;
        closeWindow(self.cpu.id, window);
      }
      yield;
    }
  }

  /** One worker operation; the page-table window it left open across a preemption point, if any. */
  function workerOp(cpu: number, tid: number): HeldWindow | undefined {
    const m = prng.below(mms.length);
    const mm = mms[m];
    const slot = prng.below(shape.pagesPerSpace);
    const va = vaOf(slot);
    const mapped = intended[m].get(va);
    switch (mapped ? prng.below(4) : 0) {
      case 0: {
        const page = { physical: frames + slot * PAGE_SIZE, prot: randomProt() };
        if (mapped) guard.unmap_page(cpu, mm, va);
        guard.map_page(cpu, mm, va, page.physical, page.prot);
        intended[m].set(va, page);
        return undefined;
      }
      case 1:
        guard.unmap_page(cpu, mm, va);
        intended[m].delete(va);
        return undefined;
      case 2: {
        guard.ptep_set_wrprotect(cpu, guard.pte_offset(mm, va)!);
        intended[m].set(va, { physical: mapped!.physical, prot: readOnly(mapped!.prot) });
        return undefined;
      }
      default: {
        // A window held across a preemption point (other threads run while it is open), then the setter.
        const window: HeldWindow = { tid, ptep: guard.pte_offset(mm, va)! };
        guard.enable_pgtable_write(cpu);
        openWindows.push(window);
        return window;
      }
    }
  }

  function closeWindow(cpu: number, window: HeldWindow): void {
    guard.ptep_test_and_clear_young(cpu, window.ptep);
    openWindows.splice(openWindows.indexOf(window), 1);
    guard.disable_pgtable_write(cpu);
  }

  /**
   * A store by unrelated code. A landed one takes effect by itself (the MMU walks the tables it
   * wrote); what it did to the entries it hit is read before and after, to report the rights it granted.
   */
  function strayStore(cpu: Cpu, kind: StrayKind, address: number, bytes: Uint8Array): void {
    const watch = guard.watchStore(address, bytes.length);
    if (!campaign.strayStore(cpu, kind, address, bytes)) return;
    for (const { change } of guard.storeLanded(watch)) {
      const rights = grantedBy(change);
      if (rights) granted.push({ address: change.virtual, granted: `${rights} (${kind})` });
    }
  }

  // The bits that grant U/S and R/W in the machine's format (x86 U/S and R/W, arm64 AP[1] and AP[2], ...).
  const userFlip = guard.format.user.flip.lo;
  const writeFlip = guard.format.write.flip.lo;

  // flipTarget's candidates, in parallel arrays refilled by each call (no object per candidate).
  const candidateSpace: number[] = [];
  const candidateVa: number[] = [];
  const candidatePtep: number[] = [];
  const candidateBit: number[] = [];
  // The PTE table of each 2 MiB region one space's pass has found (NaN: none; kernel addresses are negative), reset per space.
  const regionKeys: number[] = [];
  const regionTables: number[] = [];

  /**
   * A present leaf PTE lacking U/S or R/W, and the bits whose flip would grant it: the index of the
   * picked candidate in the candidate arrays, or -1 when there is none.
   */
  function flipTarget(): number {
    let count = 0;
    for (let m = 0; m < intended.length; m++) {
      // Nothing is stored while candidates are gathered: one walk per PTE table (2 MiB region), not per page.
      let regions = 0; // the arrays' first `regions` slots are this space's (no length reset: a slow call)
      for (const [va, page] of intended[m]) {
        // The rights first: only a page lacking one needs its PTE found (the walk is the costly part).
        if (page.prot.user && page.prot.writable) continue;
        const region = Math.floor(va / PMD_SPAN);
        const index = indexAt(va, 1) * ENTRY_BYTES;
        let r = 0;
        while (r < regions && regionKeys[r] !== region) r++;
        if (r === regions) {
          const found = guard.pte_offset(mms[m], va);
          regionKeys[r] = region;
          regionTables[r] = found === undefined ? Number.NaN : found - index;
          regions++;
        }
        const table = regionTables[r];
        if (Number.isNaN(table)) continue;
        candidateSpace[count] = m;
        candidateVa[count] = va;
        candidatePtep[count] = table + index;
        candidateBit[count] = page.prot.user ? writeFlip : userFlip;
        count++;
      }
    }
    // prng.pick over the candidates: the same draw.
    return count > 0 ? prng.below(count) : -1;
  }

  function randomTableEntry(): number {
    // The tables each space links now (recorded as setters link them): no walk per stray. One draw
    // over all spaces' tables in order (what prng.pick of their concatenation draws), no array made.
    let total = 0;
    for (const mm of mms) total += mm.tables.size;
    let n = prng.below(total);
    let table = -1;
    for (const mm of mms) {
      if (n >= mm.tables.size) {
        n -= mm.tables.size;
        continue;
      }
      for (const t of mm.tables) if (n-- === 0) table = t;
      break;
    }
    return kernel.page_address(table) + prng.below(512) * ENTRY_BYTES;
  }

  const randomBytes = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = prng.below(256);
    return out;
  };
  const granting = (entry: EntryValue): Uint8Array =>
    entryBytes(guard.format.isPresent(entry, 1) ? guard.format.granting(entry) : guard.format.madePresent(entry));

  function* stray(self: ThreadContext, kind: StrayKind, delay: number) {
    for (let i = 0; i < delay; i++) yield;
    switch (kind) {
      case 'random-address':
        strayStore(self.cpu, kind, randomTableEntry(), randomBytes(ENTRY_BYTES));
        return;
      case 'wrong-thread':
        // Aim at the entry another thread's open window is about to change: its rights are not ours.
        for (let i = 0; i < MAX_WAIT && openWindows.length === 0; i++) yield;
        strayAtWindow(self.cpu, kind);
        return;
      case 'write-after-kunmap': {
        const stale = writeProtectTarget(self.cpu.id);
        yield;
        strayStore(self.cpu, kind, stale.ptep, entryBytes(guard.format.withWrite(stale.before)));
        return;
      }
      default:
        flipBit(self.cpu, kind);
    }
  }

  function strayAtWindow(cpu: Cpu, kind: StrayKind): void {
    const ptep = openWindows.length > 0 ? prng.pick(openWindows).ptep : randomTableEntry();
    strayStore(cpu, kind, ptep, granting(guard.readEntry(ptep)));
  }

  /**
   * A legitimate setter (write-protect a page) whose pointer is kept: the entry and what it held
   * before, for the store through the stale pointer that undoes it.
   */
  function writeProtectTarget(cpu: number): { ptep: number; before: EntryValue } {
    const target = flipTarget();
    const ptep = target >= 0 ? candidatePtep[target] : randomTableEntry();
    const before = guard.readEntry(ptep);
    if (target >= 0) {
      const m = candidateSpace[target];
      const va = candidateVa[target];
      guard.ptep_set_wrprotect(cpu, ptep);
      const page = intended[m].get(va)!;
      intended[m].set(va, { physical: page.physical, prot: readOnly(page.prot) });
    }
    return { ptep, before };
  }

  /**
   * The entry's low byte (low word when the bits lie higher) flipped: U/S on a kernel-only page,
   * R/W on a read-only one.
   */
  function flipBit(cpu: Cpu, kind: StrayKind): void {
    const target = flipTarget();
    const ptep = target >= 0 ? candidatePtep[target] : randomTableEntry();
    const bit = target >= 0 ? candidateBit[target] : userFlip;
    const low = guard.readEntry(ptep).lo;
    strayStore(
      cpu,
      kind,
      ptep,
      bit <= 0xff ? new Uint8Array([(low & 0xff) ^ bit]) : entryBytes({ lo: (low ^ bit) >>> 0, hi: 0 }).subarray(0, 4),
    );
  }

  campaign.spawnWorkers('mm-worker', worker);
  campaign.spawnStrays((kind) => {
    const delay = 4 + prng.below(60);
    return (self) => stray(self, kind, delay);
  });

  const { cost, log } = campaign.run();
  const corrupted = entriesCorrupted(guard, mms, intended);
  return campaign.result(cost, campaignNotes(guard, log, corrupted, granted), { granted_rights: granted });
}

/** Leaves whose effective translation differs from what the legitimate setters meant. */
function entriesCorrupted(
  guard: PgtableGuard,
  mms: readonly GuardedMm[],
  intended: readonly Map<number, Intended>[],
): number {
  let differing = 0;
  mms.forEach((mm, m) => {
    const actual = guard.leaves(mm);
    for (const [va, page] of intended[m]) {
      const leaf = actual.get(va);
      const same =
        leaf !== undefined &&
        leaf.physical === page.physical &&
        leaf.user === page.prot.user &&
        leaf.writable === page.prot.writable &&
        leaf.executable === page.prot.executable;
      if (!same) differing++;
    }
    for (const va of actual.keys()) if (!intended[m].has(va)) differing++;
  });
  return differing;
}

function campaignNotes(
  guard: PgtableGuard,
  log: readonly string[],
  corrupted: number,
  granted: readonly GrantedRights[],
): string[] {
  const notes: string[] = [];
  const stats = guard.cache.stats();
  notes.push(
    guard.protected || guard.state === 'abandoned'
      ? `page tables: ${stats.usedPages} pages from ${stats.blocks} grouped 2 MiB block(s), key ${guard.pgtableKey}, ${guard.mode} mode${guard.state === 'abandoned' ? ' (protection abandoned)' : ''}`
      : `page tables not write-protected (${guard.state})`,
  );
  // One pass over the log (it is long): the first three distinct warnings, the oopses counted.
  const warnings = new Set<string>();
  let oopses = 0;
  let firstOops = '';
  for (const line of log) {
    if (line.startsWith('WARNING: ')) {
      if (warnings.size < 3) warnings.add(line);
    } else if (line.startsWith('BUG: unable to handle page fault') && oopses++ === 0) firstOops = line;
  }
  notes.push(...warnings);
  if (oopses > 0) notes.push(`${oopses} oops(es); first: ${firstOops}`);
  if (granted.length > 0) notes.push(`first grant: ${formatAddress(granted[0].address)} ${granted[0].granted}`);
  notes.push(`page-table entries differing from the setters' intent: ${corrupted}`);
  return notes;
}

/** The page-table entry of `pkeysim campaign`'s registry. */
export const pgtableCampaign: CampaignRunner = {
  consumer: 'pgtable',
  description: 'PKS write-protected page tables: grouped page cache, setters-only windows, soft/strict modes',
  modes: PGTABLE_MODES,
  knobs: ['threads', 'ops', 'spaces', 'cpus'],
  run: runPgtableCampaign,
};
