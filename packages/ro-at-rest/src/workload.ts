import type { Cpu, Prng, StrayCampaign, StrayKind, ThreadContext } from '@pkeysim/kernel';
import type { RoAllocator, RoCache, RoObject, RoWindow } from './allocator';
import type { Cred, CredCache, CredField, PolicyField, PolicyRule, PolicyTable } from './examples';

/** A policy reload a worker holds open across a preemption point: the rule, its new value, the window. */
interface PolicyReload {
  readonly rule: RoObject<PolicyField>;
  readonly next: PolicyRule;
  readonly window: RoWindow<PolicyField>;
}

/** How long a stray waits for a writer's open window before it falls back. */
const MAX_WAIT = 30;

const CRED_EUID_OFFSET = 4 * (['uid', 'gid', 'suid', 'sgid', 'euid'] satisfies CredField[]).indexOf('euid');

/**
 * One ro-at-rest campaign run's workload state and operations. The threads' generators (below)
 * only yield and call these methods: code on a class and module-level generators lives as long as
 * the process, so V8 keeps what it compiled for them across runs (closures made per run are
 * recompiled after a collection frees the previous run's), and each generator compiles small.
 */
export class RoWorkload {
  private readonly openWindows: RoObject<string>[] = [];

  constructor(
    private readonly ro: RoAllocator,
    private readonly prng: Prng,
    private readonly campaign: StrayCampaign,
    private readonly creds: CredCache,
    private readonly policy: PolicyTable,
    private readonly taskCreds: readonly RoObject<CredField>[],
    private readonly objects: readonly RoObject<string>[],
    /** Each value is a fresh object nobody changes afterwards (read or built per write): kept as it is, not copied. */
    private readonly intended: Map<RoObject<string>, Readonly<Record<string, number>>>,
    private readonly tasks: number,
  ) {}

  get hasOpenWindow(): boolean {
    return this.openWindows.length > 0;
  }

  /** One worker operation; the policy reload it left open across a preemption point, if any. */
  workerOp(cpu: number): PolicyReload | undefined {
    const { prng, creds, policy } = this;
    switch (prng.below(4)) {
      case 0: {
        // setresuid(): a new euid, committed by the declared writer.
        const task = prng.pick(this.taskCreds);
        const next: Cred = {
          ...creds.cache.read(cpu, task),
          euid: prng.below(2) === 0 ? 0 : 1000 + prng.below(this.tasks),
        };
        this.ro.roWrite(cpu, task, creds.commit_creds, next);
        this.intended.set(task, next);
        return undefined;
      }
      case 1: {
        // A policy reload that sleeps with its window open (other threads run meanwhile).
        const rule = prng.pick(policy.rules);
        const next = { ...policy.cache.read(cpu, rule), allow: prng.below(8) };
        const window = this.ro.roWriteBegin(cpu, rule, policy.policy_load);
        this.openWindows.push(rule);
        return { rule, next, window };
      }
      default:
        creds.cache.read(cpu, prng.pick(this.taskCreds));
        return undefined;
    }
  }

  finishReload({ rule, next, window }: PolicyReload): void {
    window.context.set(next);
    this.openWindows.splice(this.openWindows.indexOf(rule), 1);
    this.ro.roWriteEnd(window);
    this.intended.set(rule, next);
  }

  /** A store at a random place in a random slab of either cache. */
  randomStray(cpu: Cpu, kind: StrayKind): void {
    this.campaign.strayStore(cpu, kind, this.randomAddress(), this.randomBytes(8));
  }

  /** A store into the object another thread's window is open on (or any object, when none is). */
  windowStray(cpu: Cpu, kind: StrayKind): void {
    const prng = this.prng;
    const target = this.openWindows.length > 0 ? prng.pick(this.openWindows) : prng.pick(this.objects);
    this.campaign.strayStore(cpu, kind, target.address + 4 * prng.below(4), this.randomBytes(4));
  }

  /** commit_creds as it should be, the task whose cred pointer is kept (for a store after the window closed). */
  recommitCreds(cpu: number): RoObject<CredField> {
    const task = this.prng.pick(this.taskCreds);
    const next = this.creds.cache.read(cpu, task);
    this.ro.roWrite(cpu, task, this.creds.commit_creds, next);
    return task;
  }

  /** euid = 0 through a kept cred pointer: the store an exploit wants. */
  rootEuidStray(cpu: Cpu, kind: StrayKind, task: RoObject<CredField>): void {
    this.campaign.strayStore(cpu, kind, task.address + CRED_EUID_OFFSET, new Uint8Array(4));
  }

  private randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = 1 + this.prng.below(255);
    return out;
  }

  private randomAddress(): number {
    const prng = this.prng;
    const cache: RoCache<string> =
      prng.below(2) === 0
        ? (this.creds.cache as unknown as RoCache<string>)
        : (this.policy.cache as unknown as RoCache<string>);
    const slab = prng.pick(cache.slabAddresses());
    return slab + prng.below(this.ro.slabBytes / 8) * 8;
  }
}

export function* roWorker(w: RoWorkload, self: ThreadContext, ops: number) {
  for (let op = 0; op < ops; op++) {
    const reload = w.workerOp(self.cpu.id);
    if (reload !== undefined) {
      yield;
      w.finishReload(reload);
    }
    yield;
  }
}

export function* roStray(w: RoWorkload, self: ThreadContext, kind: StrayKind, delay: number) {
  for (let i = 0; i < delay; i++) yield;
  switch (kind) {
    case 'random-address':
      w.randomStray(self.cpu, kind);
      return;
    case 'wrong-thread':
      for (let i = 0; i < MAX_WAIT && !w.hasOpenWindow; i++) yield;
      w.windowStray(self.cpu, kind);
      return;
    default: {
      const task = w.recommitCreds(self.cpu.id);
      yield;
      w.rootEuidStray(self.cpu, kind, task);
    }
  }
}
