import {
  type CampaignOptions,
  type CampaignResult,
  type CampaignRunner,
  createKernel,
  formatAddress,
  type GrantedRights,
  KernelError,
  Prng,
  Scheduler,
  type StrayKind,
  StrayCampaign,
  campaignSize,
} from '@pkeysim/kernel';
import type { PgtableMode } from './boot-params';
import { type GuardedMm, PgtableGuard } from './guard';
import { type Intended, PgtableWorkload, pgtableStray, pgtableWorker } from './workload';

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

  const campaign = new StrayCampaign(kernel, scheduler, {
    consumer: 'pgtable',
    options,
    mode,
    arch,
    size,
    kinds: PGTABLE_STRAY_KINDS,
  });
  const workload = new PgtableWorkload(kernel, guard, prng, campaign, mms, frames, shape.pagesPerSpace);
  campaign.spawnWorkers('mm-worker', (self) => pgtableWorker(workload, self, size.opsPerWorker));
  campaign.spawnStrays((kind) => {
    const delay = 4 + prng.below(60);
    return (self) => pgtableStray(workload, self, kind, delay);
  });

  const { cost, log } = campaign.run();
  const { intended, granted, unreachable } = workload;
  const corrupted = entriesCorrupted(guard, mms, intended);
  return campaign.result(cost, campaignNotes(guard, log, corrupted, granted, unreachable), {
    granted_rights: granted,
  });
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
  unreachable: number,
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
  if (unreachable > 0)
    notes.push(`worker operations skipped: a corrupted upper-level entry hid the page's PTE: ${unreachable}`);
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
