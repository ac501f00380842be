import { describe, expect, it } from 'vitest';
import '@pkeysim/x86';
import { campaignSpawner, runMeasuredCampaign } from './campaign-run';
import { createKernel } from './create-kernel';
import { Scheduler } from './sched/scheduler';

describe('campaign runs', () => {
  it('spreads threads over the CPUs in turn and measures only what the run did', () => {
    const kernel = createKernel({ cpus: 2 });
    const scheduler = new Scheduler(kernel, 1);
    const spawn = campaignSpawner(kernel, scheduler);
    const ran: number[] = [];
    for (let i = 0; i < 3; i++)
      spawn(`t${i}`, function* (self) {
        ran.push(self.cpu.id);
        yield;
      });
    kernel.log.info('before the run');
    const { cost, log } = runMeasuredCampaign(kernel, scheduler, { name: 'test', seed: 1 });
    expect(ran.length).toBe(3);
    expect(log).not.toContain('before the run');
    expect(cost.modeled_cycles).toBeGreaterThan(0);
  });

  it('names the campaign and seed when the workload does not finish', () => {
    const kernel = createKernel({ cpus: 1 });
    const scheduler = new Scheduler(kernel, 1);
    campaignSpawner(kernel, scheduler)('forever', function* () {
      for (;;) yield;
    });
    expect(() => runMeasuredCampaign(kernel, scheduler, { name: 'stuck', seed: 9 })).toThrow(
      /stuck campaign: seed 9 did not finish/,
    );
  });
});
