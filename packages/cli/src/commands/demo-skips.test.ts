import { registerPlugin } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import '@pkeysim/x86';
import { CAMPAIGN_RUNNERS } from './campaign-runners';
import { runDemo } from './demo';

// A scheme whose machine cannot be built: every campaign under it fails on its first seed.
registerPlugin({
  name: 'test-unbuildable',
  kind: 'scheme',
  description: 'a scheme that cannot build a machine (test)',
  register() {
    throw new Error('this scheme builds no machine');
  },
});

describe('pkeysim demo: a scheme whose campaigns cannot run', () => {
  it('is reported once per campaign, is not run again for later seeds, and the other rows are unaffected', () => {
    const progress: number[] = [];
    const result = runDemo({ seed: 1, runs: 3, onProgress: (done) => progress.push(done) });
    const broken = result.rows.find((r) => r.scheme === 'test-unbuildable')!;
    expect(broken.skipped).toEqual(CAMPAIGN_RUNNERS.map((r) => `${r.consumer}: this scheme builds no machine`));
    expect(broken.unsupported).toBe(broken.skipped.join('; '));
    const keys = result.rows.find((r) => r.scheme === 'keys')!;
    expect(keys.unsupported).toBeUndefined();
    expect(keys.strays_blocked).toBe(keys.strays_attempted);
    // The bar counts every (seed, scheme, campaign), skipped ones included, and ends at the total.
    const total = result.rows.length * CAMPAIGN_RUNNERS.length * 3;
    expect(progress).toEqual([...Array.from({ length: total }, (_, i) => i), total]);
  });
});
