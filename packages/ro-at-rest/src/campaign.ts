import {
  type CampaignOptions,
  type CampaignResult,
  type CampaignRunner,
  createKernel,
  DEFAULT_STATIC_CONSUMERS,
  KernelError,
  Prng,
  Scheduler,
  type StaticConsumer,
  type StrayKind,
  StrayCampaign,
  campaignSize,
} from '@pkeysim/kernel';
import { RO_KEY_NAME, RO_MODES, RoAllocator, type RoMode, type RoObject } from './allocator';
import { createCredCache, createPolicyTable, userCred } from './examples';
import { RoWorkload, roStray, roWorker } from './workload';

/** V10's static consumers plus the read-only-at-rest key, write-disabled by default. */
export const roKernelConsumers: readonly StaticConsumer[] = Object.freeze([
  ...DEFAULT_STATIC_CONSUMERS,
  { name: RO_KEY_NAME, defaultRights: 'wd' },
]);

/** The stray-access kinds the ro-at-rest campaign injects and tallies. */
export const RO_STRAY_KINDS: readonly StrayKind[] = ['random-address', 'wrong-thread', 'write-after-kunmap'];

/** The ro-at-rest campaign's fixed size: tasks, policy rules, workers, operations per worker, strays. */
export const RO_CAMPAIGN_SHAPE = Object.freeze({
  tasks: 8,
  rules: 16,
  workers: 3,
  opsPerWorker: 20,
  strays: 24,
});

/**
 * A read-only-at-rest campaign: worker threads change credentials through commit_creds, reload
 * policy rules through policy_load (some holding the window across a preemption point) and read
 * both, while unrelated code stores into the objects: at random addresses, from the wrong thread
 * while a writer's window is open, and through a stale pointer after the writer returned. At the
 * end every object is compared with what its writers meant it to hold.
 */
export function runRoAtRestCampaign(options: CampaignOptions): CampaignResult {
  const mode = options.mode as RoMode;
  if (!RO_MODES.includes(mode)) {
    throw new KernelError(
      'EINVAL',
      `ro-at-rest campaign: mode ${JSON.stringify(options.mode)} is not a ro-at-rest mode (${RO_MODES.join(', ')})`,
    );
  }
  const arch = options.arch ?? 'x86';
  const shape = RO_CAMPAIGN_SHAPE;
  const size = campaignSize(options, shape);
  const kernel = createKernel({
    arch,
    cpus: size.cpus,
    seed: options.seed,
    keyDesign: 'static',
    consumers: roKernelConsumers,
  });
  const ro = new RoAllocator(kernel, { protection: options.protection, mode });
  const prng = new Prng((options.seed ^ 0x27d4eb2f) >>> 0);
  const scheduler = new Scheduler(kernel, options.seed);

  const creds = createCredCache(ro);
  const taskCreds = Array.from({ length: shape.tasks }, (_, i) => creds.cache.alloc(0, userCred(1000 + i)));
  const policy = createPolicyTable(
    ro,
    0,
    Array.from({ length: shape.rules }, (_, i) => ({
      rule: i,
      subject: 1000 + (i % shape.tasks),
      object: i * 7,
      allow: 0x4,
    })),
  );
  // Each value is a fresh object nobody changes afterwards (read or built per write): kept as it is, not copied.
  const intended = new Map<RoObject<string>, Readonly<Record<string, number>>>();
  taskCreds.forEach((o) => intended.set(o, creds.cache.peek(o)));
  policy.rules.forEach((o) => intended.set(o, policy.cache.peek(o)));
  const objects = [...intended.keys()];

  const campaign = new StrayCampaign(kernel, scheduler, {
    consumer: 'ro-at-rest',
    options,
    mode,
    arch,
    size,
    kinds: RO_STRAY_KINDS,
  });
  const workload = new RoWorkload(ro, prng, campaign, creds, policy, taskCreds, objects, intended, shape.tasks);
  campaign.spawnWorkers('cred-worker', (self) => roWorker(workload, self, size.opsPerWorker));
  campaign.spawnStrays((kind) => {
    const delay = 4 + prng.below(60);
    return (self) => roStray(workload, self, kind, delay);
  });

  const { cost, log } = campaign.run();

  // The check and the notes are functions of their own: this one runs once per campaign, and is not
  // worth compiling together with every loop it would otherwise hold.
  return campaign.result(cost, campaignNotes(ro, mode, intended, log));
}

/** The objects whose memory differs from what their writers meant, and the fields that differ. */
function corruption(intended: ReadonlyMap<RoObject<string>, Readonly<Record<string, number>>>): {
  objects: number;
  fields: number;
} {
  let objects = 0;
  let fields = 0;
  for (const [object, value] of intended) {
    const actual = object.cache.peek(object) as Record<string, number>;
    const bad = Object.keys(value).filter((f) => actual[f] !== value[f]).length;
    fields += bad;
    if (bad > 0) objects++;
  }
  return { objects, fields };
}

/** The lines worth showing: the protection, the first stray report, the oops count and the first oops, the check. */
function campaignNotes(
  ro: RoAllocator,
  mode: RoMode,
  intended: ReadonlyMap<RoObject<string>, Readonly<Record<string, number>>>,
  log: readonly string[],
): string[] {
  const corrupted = corruption(intended);
  const notes: string[] = [
    ro.protected
      ? `objects: ${intended.size} (cred, policy_rule) in slabs keyed with key ${ro.roKey}, ${mode} mode`
      : `objects not write-protected (${ro.state})`,
  ];
  if (ro.reports.length > 0) notes.push(ro.reports[0].message);
  // One pass over the log (it is long): the oopses counted, the first kept.
  let oopses = 0;
  let firstOops = '';
  for (const line of log) if (line.startsWith('BUG: unable to handle page fault') && oopses++ === 0) firstOops = line;
  if (oopses > 0) notes.push(`${oopses} oops(es); first: ${firstOops}`);
  notes.push(`objects differing from their writers' intent: ${corrupted.objects} (${corrupted.fields} fields)`);
  return notes;
}

/** The read-only-at-rest entry of `pkeysim campaign`'s registry. */
export const roAtRestCampaign: CampaignRunner = {
  consumer: 'ro-at-rest',
  description: 'read-only-at-rest data: credentials and a policy table written only by declared writers',
  modes: RO_MODES,
  knobs: ['threads', 'ops', 'cpus'],
  run: runRoAtRestCampaign,
};
