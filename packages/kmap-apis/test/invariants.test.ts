import '@pkeysim/x86';
import '@pkeysim/scheme-capability';
import { describe, expect, it } from 'vitest';
import { runKmapApisCampaign } from '../src';

const SEEDS = [2, 3, 4, 6];

describe('kmap-apis invariants over seeds', () => {
  it.each(SEEDS)('seed %i: legitimate work never fails, and what each design guarantees holds', (seed) => {
    const { designs } = runKmapApisCampaign({ seed, protection: true, mode: 'strict' });
    for (const d of designs) {
      expect(d.unsupported, d.design).toBeUndefined();
      expect(d.legit_failures, d.design).toBe(0);
      expect(d.strays_caught, d.design).toBeLessThanOrEqual(d.strays_attempted);
      expect(d.misuses_by_kind['unbalanced-unmap'], d.design).toBe(2);
    }
    const by = (name: string) => designs.find((d) => d.design === name)!;
    // Per-thread keys: nothing from another thread and nothing after the unmap lands, nothing is exposed.
    for (const name of ['kmap-local', 'kmap-local-range']) {
      expect(by(name).by_kind['wrong-thread']!.landed, name).toBe(0);
      expect(by(name).by_kind['write-after-kunmap']!.landed, name).toBe(0);
      expect(by(name).exposure, name).toBe(0);
    }
    // Capabilities: bounds and permissions always hold, and nothing is switched.
    const cap = by('capability');
    expect(cap.by_kind['out-of-bounds']!.landed).toBe(0);
    expect(cap.by_kind['missing-permission']!.landed).toBe(0);
    expect(cap.rights_writes + cap.pte_writes + cap.tlb_flushes + cap.shootdowns).toBe(0);
    // No direct map: every page_address() access is seen.
    expect(by('no-direct-map').misuses_by_kind['page-address-without-map']).toBe(2);
  });
});
