import { type DomainSpace, type EventCounters, MachineEvent, type RightsState, rightsStateEqual } from '@pkeysim/core';
import { rightsAreGlobal } from './scope';

/**
 * pks_write_pkrs() (V6..V10 arch/x86/mm/pkeys.c): writes the register only when the per-CPU cache
 * of the last value written differs, because WRMSR is expensive; skipped writes are counted.
 */
export class PkrsWriter {
  private readonly cache: (RightsState | undefined)[];
  /** Rights another CPU can change (address-space scope): the cache would go stale, so it is not used. */
  private readonly uncached: boolean;
  constructor(
    private readonly space: DomainSpace | undefined,
    private readonly events: EventCounters,
    cpus: number,
  ) {
    this.cache = new Array<RightsState | undefined>(cpus).fill(undefined);
    this.uncached = rightsAreGlobal(space);
  }

  write(cpu: number, state: RightsState): void {
    if (!this.space) return;
    const cached = this.cache[cpu];
    if (!this.uncached && cached !== undefined && rightsStateEqual(cached, state)) {
      this.events.count(cpu, MachineEvent.RightsWriteSkipped);
      return;
    }
    this.space.load(cpu, state);
    this.events.count(cpu, MachineEvent.DomainSwitch);
    this.cache[cpu] = state;
  }

  /** The per-CPU cache (pkrs_cache), for tests and reports. */
  cached(cpu: number): RightsState | undefined {
    return this.cache[cpu];
  }
}
