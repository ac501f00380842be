import { CostModel, EventCounters, MachineEvent } from '@pkeysim/core';

/** What changing rights costs, whatever the scheme: register traffic, PTE flips and the invalidations. */
const SWITCH_COST_EVENTS = [
  'rights_write',
  'rights_read',
  'rights_write_skipped',
  'pte_write',
  'tlb_flush_page',
  'tlb_flush_all',
  'shootdown',
] as const;

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
  costs: CostModel | Readonly<Record<string, number>> = new CostModel(),
): CampaignCost {
  const cost = costs instanceof CostModel ? costs : new CostModel(costs);
  if (before.length !== events.counts.length)
    throw new RangeError('campaignCost: the snapshot is from another machine');
  const spent = new EventCounters(events.cpus);
  for (let i = 0; i < spent.counts.length; i++) spent.counts[i] = events.counts[i] - before[i];
  const switches = spent.total(MachineEvent.DomainSwitch);
  const b = cost.breakdown(spent);
  const rights = SWITCH_COST_EVENTS.reduce((sum, name) => sum + (b[name] ?? 0), 0);
  return {
    domain_switches: switches,
    modeled_cycles: cost.total(spent),
    cycles_per_switch: switches === 0 ? 0 : rights / switches,
  };
}
