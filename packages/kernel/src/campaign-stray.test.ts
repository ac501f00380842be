import { describe, expect, it } from 'vitest';
import '@pkeysim/x86';
import { campaignSize } from './campaign-size';
import { StrayCampaign } from './campaign-stray';
import { createKernel } from './create-kernel';
import { Scheduler } from './sched/scheduler';

describe('StrayCampaign', () => {
  it('deals stray kinds in order, tallies each store, and returns the machine events with the result', () => {
    const kernel = createKernel({ cpus: 2 });
    const scheduler = new Scheduler(kernel, 1);
    const options = { seed: 1, protection: false, mode: 'strict' as const, threads: 1 };
    const campaign = new StrayCampaign(kernel, scheduler, {
      consumer: 'pmem',
      options,
      mode: 'strict',
      arch: 'x86',
      size: campaignSize(options, { workers: 1, opsPerWorker: 1 }),
      kinds: ['random-address', 'wrong-thread'],
    });
    const target = kernel.alloc_page();
    const started: string[] = [];
    let workerRan = 0;
    campaign.spawnWorkers('worker', function* () {
      workerRan++;
      yield;
    });
    campaign.spawnStrays((kind, index) => {
      started.push(`${index}:${kind}`);
      return function* (self) {
        yield;
        campaign.strayStore(self.cpu, kind, kernel.page_address(target) + index * 8, new Uint8Array([index]));
      };
    });
    const { cost } = campaign.run();
    const result = campaign.result(cost, ['a note'], { bytes_corrupted_after_reboot: 0 });
    expect(workerRan).toBe(1);
    expect(started).toHaveLength(8); // STRAYS_PER_WORKER strays for the one worker
    expect(started.slice(0, 3)).toEqual(['0:random-address', '1:wrong-thread', '2:random-address']);
    expect(result).toMatchObject({
      consumer: 'pmem',
      seed: 1,
      strays_attempted: 8,
      strays_landed: 8,
      strays_blocked: 0,
      bytes_corrupted_after_reboot: 0,
      notes: ['a note'],
    });
    expect(result.by_kind['random-address']).toEqual({ attempted: 4, blocked: 0, landed: 4 });
    expect(result.machine_events?.access).toBeGreaterThan(0);
    expect(result.machine_events?.context_switch).toBeGreaterThan(0);
  });
});
