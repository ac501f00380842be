import { describe, expect, it } from 'vitest';
import { CostModel, DEFAULT_EVENT_CYCLES } from './cost-model';
import { EventCounters, MACHINE_EVENT_NAMES, MachineEvent } from './events';

describe('event counters and the cost model', () => {
  it('has a documented default cost for every event', () => {
    for (const name of MACHINE_EVENT_NAMES) expect(DEFAULT_EVENT_CYCLES[name]).toBeTypeOf('number');
  });

  it('counts per CPU and sums over CPUs', () => {
    const counters = new EventCounters(2);
    counters.count(0, MachineEvent.RightsWrite);
    counters.count(1, MachineEvent.RightsWrite, 2);
    counters.count(1, MachineEvent.Shootdown);
    expect(counters.get(1, MachineEvent.RightsWrite)).toBe(2);
    expect(counters.total(MachineEvent.RightsWrite)).toBe(3);
    expect(counters.summary()).toEqual({ rights_write: 3, shootdown: 1 });
  });

  it('charges each event its cycles, with overrides', () => {
    const counters = new EventCounters(2);
    counters.count(0, MachineEvent.RightsWrite, 10);
    counters.count(1, MachineEvent.Shootdown, 1);
    const model = new CostModel({ rights_write: 20, shootdown: 1000 });
    expect(model.total(counters, 0)).toBe(200);
    expect(model.total(counters, 1)).toBe(1000);
    expect(model.total(counters)).toBe(1200);
    expect(model.breakdown(counters)).toEqual({ rights_write: 200, shootdown: 1000 });
  });

  it('refuses unknown events and negative costs', () => {
    expect(() => new CostModel({ wrpkru: 5 })).toThrow(/unknown cost event "wrpkru"/);
    expect(() => new CostModel({ rights_write: -1 })).toThrow(/>= 0/);
  });
});
