import '@pkeysim/x86';
import { CostModel, Deny, EventCounters, MachineEvent } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { campaignCost, snapshotEvents } from './campaign-cost';
import { acquireConsumerKey } from './consumer-key';
import { createKernel } from './create-kernel';

describe('acquireConsumerKey', () => {
  it('gives a static consumer its named key and declared resting rights', () => {
    const kernel = createKernel({ keyDesign: 'static', pageTableProtection: true });
    expect(acquireConsumerKey(kernel, 'PKS_KEY_PG_TABLES', 'pgtable')).toEqual({
      ok: true,
      key: 3,
      restDenials: Deny.Write,
    });
  });

  it('allocates a dynamic key, which rests access-disabled', () => {
    const kernel = createKernel({ keyDesign: 'dynamic' });
    expect(acquireConsumerKey(kernel, 'PKS_KEY_X', 'owner')).toEqual({ ok: true, key: 1, restDenials: Deny.Access });
    expect(kernel.pks_keys_allocated().rows.map((r) => r.owner)).toContain('owner');
  });

  it('reports the two causes of no key without throwing', () => {
    const noPks = createKernel({ features: { supervisorDomains: false } });
    expect(acquireConsumerKey(noPks, 'PKS_KEY_X', 'owner')).toMatchObject({
      ok: false,
      reason: 'unsupported',
      errno: -95,
    });
    const full = createKernel({ keyDesign: 'dynamic' });
    for (let i = 1; i < 16; i++) full.pks_key_alloc(`hog${i}`);
    expect(acquireConsumerKey(full, 'PKS_KEY_X', 'owner')).toMatchObject({ ok: false, reason: 'no-key', errno: -28 });
    const unnamed = createKernel({ keyDesign: 'static' });
    expect(acquireConsumerKey(unnamed, 'PKS_KEY_MISSING', 'owner')).toMatchObject({
      ok: false,
      reason: 'no-key',
      errno: -22,
    });
  });
});

describe('campaignCost', () => {
  it('prices only the events counted since the snapshot', () => {
    const events = new EventCounters(2);
    events.count(0, MachineEvent.RightsWrite, 5);
    const before = snapshotEvents(events);
    events.count(1, MachineEvent.DomainSwitch, 2);
    events.count(1, MachineEvent.RightsWrite, 2);
    events.count(1, MachineEvent.RightsWriteSkipped, 3);
    events.count(0, MachineEvent.Shootdown, 1);
    events.count(0, MachineEvent.ContextSwitch, 1);
    const cost = campaignCost(
      events,
      before,
      new CostModel({ rights_write: 100, shootdown: 4000, context_switch: 50 }),
    );
    // Switches are DomainSwitch events; their cost is the switching traffic (writes and shootdown), not the context switch.
    expect(cost).toEqual({ domain_switches: 2, modeled_cycles: 4250, cycles_per_switch: 2100 });
    expect(campaignCost(events, snapshotEvents(events)).cycles_per_switch).toBe(0);
    expect(() => campaignCost(events, new Float64Array(3))).toThrow(/another machine/);
  });
});
