import { describe, expect, it } from 'vitest';
import { EventCounters, MACHINE_EVENT_COUNT, MachineEvent } from './events';

describe('EventCounters storage', () => {
  it('counts into the array it is given, so a view of a larger array sees every count', () => {
    const shared = new Float64Array(8 + 2 * MACHINE_EVENT_COUNT);
    const events = new EventCounters(2, shared.subarray(8));
    events.count(1, MachineEvent.Access, 3);
    expect(shared[8 + MACHINE_EVENT_COUNT + MachineEvent.Access]).toBe(3);
    shared[8 + MachineEvent.PageWalk] += 2;
    expect(events.get(0, MachineEvent.PageWalk)).toBe(2);
    events.reset();
    expect(shared.every((v) => v === 0)).toBe(true);
  });

  it('refuses storage of the wrong size', () => {
    expect(() => new EventCounters(2, new Float64Array(MACHINE_EVENT_COUNT))).toThrow(RangeError);
  });
});
