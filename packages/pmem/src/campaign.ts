import {
  type CampaignOptions,
  type CampaignResult,
  type CampaignRunner,
  createKernel,
  KernelError,
  Prng,
  Scheduler,
  type StrayKind,
  StrayCampaign,
  campaignSize,
} from '@pkeysim/kernel';
import { PmemNamespace } from './namespace';
import { PKS_FAULT_MODES, type PksFaultMode } from './pgmap';
import { PmemWorkload, pmemLeaker, pmemStray, pmemWorker } from './workload';

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
  const workload = new PmemWorkload(ns, prng, campaign, shape, size.strays);
  campaign.spawnWorkers('pmem-worker', (self) => pmemWorker(workload, self, size.opsPerWorker));
  campaign.spawnStrays((kind, s, spawn) => {
    const delay = prng.below(40);
    if (kind === 'leaked-global-kmap') {
      const index = prng.below(shape.pages);
      const leakDelay = prng.below(20);
      spawn(`legacy-kmap/${s}`, (self) => pmemLeaker(workload, ns, self, index, leakDelay));
    }
    return (self) => pmemStray(workload, self, kind, delay, shape.strayBytes);
  });
  scheduler.onInterrupt((cpu) => workload.completion(cpu));

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
