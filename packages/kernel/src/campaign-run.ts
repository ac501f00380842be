import type { CostModel } from '@pkeysim/core';
import { campaignCost, snapshotEvents, type CampaignCost } from './campaign-cost';
import type { Kernel } from './kernel';
import type { Scheduler, ThreadBody } from './sched/scheduler';

/** How many scheduling decisions a campaign may take before it is declared stuck (a bug). */
export const CAMPAIGN_MAX_STEPS = 200_000;

/** A campaign's thread starter: each new kernel thread goes to the next CPU in turn. */
export function campaignSpawner(kernel: Kernel, scheduler: Scheduler): (name: string, body: ThreadBody) => void {
  let threadNo = 0;
  return (name, body) => scheduler.start(kernel.kthread_create(name, threadNo++ % kernel.cpuCount), body);
}

/**
 * Run a campaign's scheduled workload and measure it: the cost of the events it caused and the
 * kernel log lines it produced. A run that does not finish, or a kernel panic, is an error naming
 * the campaign and seed: campaigns must end with every thread done or killed by an oops.
 */
export function runMeasuredCampaign(
  kernel: Kernel,
  scheduler: Scheduler,
  campaign: {
    readonly name: string;
    readonly seed: number;
    readonly costs?: CostModel | Readonly<Record<string, number>>;
    /** Decisions allowed before the run counts as stuck (default {@link CAMPAIGN_MAX_STEPS}). */
    readonly maxSteps?: number;
  },
): { readonly cost: CampaignCost; readonly log: readonly string[] } {
  const events = kernel.machine.events;
  const before = snapshotEvents(events);
  const logMark = kernel.log.lines().length;
  const maxSteps = campaign.maxSteps ?? CAMPAIGN_MAX_STEPS;
  scheduler.runQuietly(maxSteps);
  if (scheduler.busy) {
    throw new Error(`${campaign.name} campaign: seed ${campaign.seed} did not finish in ${maxSteps} steps`);
  }
  if (kernel.panic) throw new Error(`${campaign.name} campaign: the kernel panicked: ${kernel.panic.reason}`);
  return { cost: campaignCost(events, before, campaign.costs), log: kernel.log.since(logMark) };
}
