import type { CampaignMode, CampaignOptions, CampaignResult, StrayKind } from './campaign';
import type { CampaignCost } from './campaign-cost';
import { campaignSpawner, runMeasuredCampaign } from './campaign-run';
import { campaignMaxSteps, type CampaignSize } from './campaign-size';
import { StrayTally } from './campaign-tally';
import type { Cpu } from './cpu';
import type { Kernel } from './kernel';
import type { Scheduler, ThreadBody } from './sched/scheduler';

/** What every consumer's stray campaign says about itself: who it is and how it was asked to run. */
export interface StrayCampaignSetup {
  readonly consumer: CampaignResult['consumer'];
  readonly options: CampaignOptions;
  /** The mode after the consumer checked it. */
  readonly mode: CampaignMode;
  readonly arch: string;
  readonly size: CampaignSize;
  /** The consumer's stray kinds, dealt out to the strays in this order (round robin). */
  readonly kinds: readonly StrayKind[];
}

/** Starts one stray thread of `kind` (the `index`th): draws its choices now, returns its body. */
export type StrayStarter = (
  kind: StrayKind,
  index: number,
  spawn: (name: string, body: ThreadBody) => void,
) => ThreadBody;

/**
 * The loop every consumer's stray-write campaign shares: legitimate workers and injected strays
 * started on the seeded scheduler (threads go to the CPUs in turn), each stray's write tallied as
 * blocked or landed, the run measured, and the result built in the CampaignResult vocabulary with
 * the machine's event counts, so callers (the demo) read them from the result instead of the machine.
 */
export class StrayCampaign {
  readonly tally: StrayTally;
  private readonly spawnThread: (name: string, body: ThreadBody) => void;

  constructor(
    readonly kernel: Kernel,
    private readonly scheduler: Scheduler,
    readonly setup: StrayCampaignSetup,
  ) {
    this.tally = new StrayTally(setup.kinds);
    this.spawnThread = campaignSpawner(kernel, scheduler);
  }

  /** Start a kernel thread on the next CPU in turn (helpers such as a legacy kmap user). */
  spawn(name: string, body: ThreadBody): void {
    this.spawnThread(name, body);
  }

  /** Start `size.workers` workers named `<prefix>/<n>`. */
  spawnWorkers(prefix: string, body: ThreadBody): void {
    for (let w = 0; w < this.setup.size.workers; w++) this.spawnThread(`${prefix}/${w}`, body);
  }

  /** Start `size.strays` strays named `stray/<n>-<kind>`, kinds dealt in order; `start` draws each one's choices. */
  spawnStrays(start: StrayStarter): void {
    const kinds = this.setup.kinds;
    const spawn = (name: string, body: ThreadBody) => this.spawnThread(name, body);
    for (let s = 0; s < this.setup.size.strays; s++) {
      const kind = kinds[s % kinds.length];
      const body = start(kind, s, spawn);
      this.spawnThread(`stray/${s}-${kind}`, body);
    }
  }

  /**
   * A stray store by unrelated code, tallied: true when it landed. When an oops blocks it the
   * thread dies in this call, so it must be the stray body's last kernel call.
   */
  strayStore(cpu: Cpu, kind: StrayKind, address: number, bytes: Uint8Array): boolean {
    return this.tally.record(kind, cpu.write(address, bytes).ok);
  }

  /** Run the workload to the end and measure it (runMeasuredCampaign with the size's step limit). */
  run(): { readonly cost: CampaignCost; readonly log: readonly string[] } {
    const { consumer, options, size } = this.setup;
    return runMeasuredCampaign(this.kernel, this.scheduler, {
      name: consumer,
      seed: options.seed,
      costs: options.costs,
      maxSteps: campaignMaxSteps(size),
    });
  }

  /**
   * The result: settings, stray counts, `cost`, `notes`, the consumer's own fields (`extra`) and
   * every event the machine counted since it was built (read now: call it after the final check).
   */
  result(
    cost: CampaignCost,
    notes: readonly string[],
    extra: Pick<CampaignResult, 'bytes_corrupted_after_reboot' | 'granted_rights' | 'tables'> = {},
  ): CampaignResult {
    const { consumer, options, mode, arch } = this.setup;
    const strays = this.tally.summary();
    return {
      consumer,
      seed: options.seed,
      protection: options.protection,
      mode,
      arch,
      strays_attempted: strays.strays_attempted,
      strays_blocked: strays.strays_blocked,
      strays_landed: strays.strays_landed,
      ...extra,
      ...cost,
      by_kind: strays.by_kind,
      notes,
      machine_events: this.kernel.machine.events.summary(),
    };
  }
}
