import {
  type CampaignOptions,
  type CampaignResult,
  type CampaignRunner,
  type Cpu,
  createKernel,
  DEFAULT_STATIC_CONSUMERS,
  KernelError,
  Prng,
  Scheduler,
  type StaticConsumer,
  type StrayKind,
  type ThreadContext,
  StrayCampaign,
  campaignSize,
} from '@pkeysim/kernel';
import {
  RO_KEY_NAME,
  RO_MODES,
  RoAllocator,
  type RoCache,
  type RoMode,
  type RoObject,
  type RoWindow,
} from './allocator';
import {
  createCredCache,
  createPolicyTable,
  type Cred,
  type CredField,
  type PolicyField,
  type PolicyRule,
  userCred,
} from './examples';

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

const MAX_WAIT = 30;

/** A policy reload a worker holds open across a preemption point: the rule, its new value, the window. */
interface PolicyReload {
  readonly rule: RoObject<PolicyField>;
  readonly next: PolicyRule;
  readonly window: RoWindow<PolicyField>;
}

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
  const openWindows: RoObject<string>[] = [];

  // The threads' generators only yield; each operation is a plain function they call, so what is
  // compiled for them is small and the operations are compiled once, apart from the generators.
  function* worker(self: ThreadContext) {
    for (let op = 0; op < size.opsPerWorker; op++) {
      const reload = workerOp(self.cpu.id);
      if (reload !== undefined) {
        yield;
        finishReload(reload);
      }
      yield;
    }
  }

  /** One worker operation; the policy reload it left open across a preemption point, if any. */
  function workerOp(cpu: number): PolicyReload | undefined {
    switch (prng.below(4)) {
      case 0: {
        // setresuid(): a new euid, committed by the declared writer.
        const task = prng.pick(taskCreds);
        const next: Cred = {
          ...creds.cache.read(cpu, task),
          euid: prng.below(2) === 0 ? 0 : 1000 + prng.below(shape.tasks),
        };
        ro.roWrite(cpu, task, creds.commit_creds, next);
        intended.set(task, next);
        return undefined;
      }
      case 1: {
        // A policy reload that sleeps with its window open (other threads run meanwhile).
        const rule = prng.pick(policy.rules);
        const next = { ...policy.cache.read(cpu, rule), allow: prng.below(8) };
        const window = ro.roWriteBegin(cpu, rule, policy.policy_load);
        openWindows.push(rule);
        return { rule, next, window };
      }
      default:
        creds.cache.read(cpu, prng.pick(taskCreds));
        return undefined;
    }
  }

  function finishReload({ rule, next, window }: PolicyReload): void {
    window.context.set(next);
    openWindows.splice(openWindows.indexOf(rule), 1);
    ro.roWriteEnd(window);
    intended.set(rule, next);
  }

  function strayStore(cpu: Cpu, kind: StrayKind, address: number, bytes: Uint8Array): void {
    campaign.strayStore(cpu, kind, address, bytes);
  }

  /** euid = 0: the store an exploit wants. */
  const rootEuid = (object: RoObject<string>) => object.address + CRED_EUID_OFFSET;
  const zero = () => new Uint8Array(4);
  const randomBytes = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = 1 + prng.below(255);
    return out;
  };
  const randomAddress = () => {
    const cache: RoCache<string> =
      prng.below(2) === 0 ? (creds.cache as unknown as RoCache<string>) : (policy.cache as unknown as RoCache<string>);
    const slab = prng.pick(cache.slabAddresses());
    return slab + prng.below(ro.slabBytes / 8) * 8;
  };

  function* stray(self: ThreadContext, kind: StrayKind, delay: number) {
    for (let i = 0; i < delay; i++) yield;
    switch (kind) {
      case 'random-address':
        strayStore(self.cpu, kind, randomAddress(), randomBytes(8));
        return;
      case 'wrong-thread': {
        for (let i = 0; i < MAX_WAIT && openWindows.length === 0; i++) yield;
        const target = openWindows.length > 0 ? prng.pick(openWindows) : prng.pick(objects);
        strayStore(self.cpu, kind, target.address + 4 * prng.below(4), randomBytes(4));
        return;
      }
      default: {
        const task = recommitCreds(self.cpu.id);
        yield;
        strayStore(self.cpu, kind, rootEuid(task), zero());
      }
    }
  }

  /** commit_creds as it should be, the task whose cred pointer is kept (for a store after the window closed). */
  function recommitCreds(cpu: number): RoObject<CredField> {
    const task = prng.pick(taskCreds);
    const next = creds.cache.read(cpu, task);
    ro.roWrite(cpu, task, creds.commit_creds, next);
    return task;
  }

  campaign.spawnWorkers('cred-worker', worker);
  campaign.spawnStrays((kind) => {
    const delay = 4 + prng.below(60);
    return (self) => stray(self, kind, delay);
  });

  const { cost, log } = campaign.run();

  let corruptedObjects = 0;
  let corruptedFields = 0;
  for (const [object, value] of intended) {
    const actual = object.cache.peek(object) as Record<string, number>;
    const bad = Object.keys(value).filter((f) => actual[f] !== value[f]).length;
    corruptedFields += bad;
    if (bad > 0) corruptedObjects++;
  }
  const notes: string[] = [
    ro.protected
      ? `objects: ${intended.size} (cred, policy_rule) in slabs keyed with key ${ro.roKey}, ${mode} mode`
      : `objects not write-protected (${ro.state})`,
  ];
  if (ro.reports.length > 0) notes.push(ro.reports[0].message);
  const oopses = log.filter((l) => l.startsWith('BUG: unable to handle page fault'));
  if (oopses.length > 0) notes.push(`${oopses.length} oops(es); first: ${oopses[0]}`);
  notes.push(`objects differing from their writers' intent: ${corruptedObjects} (${corruptedFields} fields)`);
  return campaign.result(cost, notes);
}

const CRED_EUID_OFFSET = 4 * (['uid', 'gid', 'suid', 'sgid', 'euid'] satisfies CredField[]).indexOf('euid');

/** The read-only-at-rest entry of `pkeysim campaign`'s registry. */
export const roAtRestCampaign: CampaignRunner = {
  consumer: 'ro-at-rest',
  description: 'read-only-at-rest data: credentials and a policy table written only by declared writers',
  modes: RO_MODES,
  knobs: ['threads', 'ops', 'cpus'],
  run: runRoAtRestCampaign,
};
