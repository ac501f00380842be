import { CostModel, EventCounters, MachineEvent } from '@pkeysim/core';

/**
 * What changing rights costs, whatever the scheme: register traffic (keys), PTE flips and the TLB
 * invalidations and shootdowns (page-table permissions, re-keying pages). The campaigns' and the
 * demo's cycles per switch both sum these.
 */
export const SWITCH_COST_EVENTS: readonly MachineEvent[] = [
  MachineEvent.RightsWrite,
  MachineEvent.RightsRead,
  MachineEvent.RightsWriteSkipped,
  MachineEvent.PteWrite,
  MachineEvent.TlbFlushPage,
  MachineEvent.TlbFlushAll,
  MachineEvent.Shootdown,
];

/** The default cost model, built once (a CostModel is immutable after construction). */
let defaultModel: CostModel | undefined;
function costModelOf(costs: CostModel | Readonly<Record<string, number>> | undefined): CostModel {
  if (costs instanceof CostModel) return costs;
  return costs === undefined ? (defaultModel ??= new CostModel()) : new CostModel(costs);
}

/** What a campaign run cost, in the CampaignResult's terms. */
export interface CampaignCost {
  /** Changes of the live rights (opening and closing windows, context switches, entries), any scheme. */
  readonly domain_switches: number;
  /** Modeled cycles of every event counted during the run. */
  readonly modeled_cycles: number;
  /** Cycles of the switching traffic (register writes and reads, PTE writes, flushes, shootdowns) per switch. */
  readonly cycles_per_switch: number;
}

/** A copy of the machine's counters, taken when a campaign's measured run starts. */
export function snapshotEvents(events: EventCounters): Float64Array {
  return events.counts.slice();
}

/**
 * The events counted since `before` (a {@link snapshotEvents} copy), priced by the core cost model
 * (a `CostModel`, or the event-name overrides a campaign was given).
 */
export function campaignCost(
  events: EventCounters,
  before: Float64Array,
  costs?: CostModel | Readonly<Record<string, number>>,
): CampaignCost {
  const cost = costModelOf(costs);
  if (before.length !== events.counts.length)
    throw new RangeError('campaignCost: the snapshot is from another machine');
  const spent = new EventCounters(events.cpus);
  for (let i = 0; i < spent.counts.length; i++) spent.counts[i] = events.counts[i] - before[i];
  const switches = spent.total(MachineEvent.DomainSwitch);
  // What cost.breakdown() gives these events, summed in the same order (no per-run record of names).
  let rights = 0;
  for (const event of SWITCH_COST_EVENTS) rights += spent.total(event) * cost.cyclesOf(event);
  return {
    domain_switches: switches,
    modeled_cycles: cost.total(spent),
    cycles_per_switch: switches === 0 ? 0 : rights / switches,
  };
}
