import '@pkeysim/x86';
import '@pkeysim/scheme-capability';
import { describe, expect, it } from 'vitest';
import { kmapApisCampaign, type KmapDesignResult, runKmapApisCampaign } from '../src';

const run = (seed = 1, mode: 'strict' | 'relaxed' = 'strict') => runKmapApisCampaign({ seed, protection: true, mode });
const design = (designs: readonly KmapDesignResult[], name: string) => designs.find((d) => d.design === name)!;

describe('kmap-apis campaign', () => {
  const { designs } = run();

  it('runs every design on the same workload, capabilities on the capability machine', () => {
    expect(designs.map((d) => d.design)).toEqual([
      'kmap-local',
      'kmap-local-range',
      'kmap-redefined',
      'vmap',
      'vmap-batched',
      'no-direct-map',
      'capability',
    ]);
    for (const d of designs) {
      expect(d.unsupported, d.design).toBeUndefined();
      expect(d.strays_attempted, d.design).toBe(15);
      expect(d.legit_failures, d.design).toBe(0);
    }
    expect(design(designs, 'capability').arch).toBe('capability');
  });

  it('per-thread keys stop a stray from another thread; a global mapping does not', () => {
    expect(design(designs, 'kmap-local').by_kind['wrong-thread']!.landed).toBe(0);
    expect(design(designs, 'vmap').by_kind['wrong-thread']!.landed).toBeGreaterThan(0);
    expect(design(designs, 'kmap-redefined').by_kind['wrong-thread']!.landed).toBeGreaterThan(0);
  });

  it('capabilities catch out-of-bounds and missing-permission stores, not in-bounds stores by a holder', () => {
    const cap = design(designs, 'capability');
    expect(cap.by_kind['out-of-bounds']!.landed).toBe(0);
    expect(cap.by_kind['missing-permission']!.landed).toBe(0);
    expect(cap.by_kind['random-address']!.landed).toBe(0);
    expect(cap.by_kind['wrong-thread']!.blocked).toBe(0);
    expect(cap.by_kind['write-after-kunmap']!.blocked).toBe(0);
    expect(cap.capability_checks).toBeGreaterThan(0);
    expect(cap.rights_writes + cap.pte_writes + cap.shootdowns).toBe(0);
  });

  it('kmap_local opens keys read/write, so a store through a read mapping lands; vmap keeps the direct map write-disabled', () => {
    expect(design(designs, 'kmap-local').by_kind['missing-permission']!.landed).toBeGreaterThan(0);
    expect(design(designs, 'vmap').by_kind['missing-permission']!.landed).toBe(0);
  });

  it('misuse is reported: handed-over windows under per-thread rights, unbalanced unmaps everywhere, page_address() without a map where it can be seen', () => {
    expect(design(designs, 'kmap-local').misuses_by_kind['window-leaked-across-threads']).toBeGreaterThan(0);
    for (const d of designs) expect(d.misuses_by_kind['unbalanced-unmap'], d.design).toBe(2);
    expect(design(designs, 'no-direct-map').misuses_by_kind['page-address-without-map']).toBe(2);
    expect(design(designs, 'capability').misuses_by_kind['page-address-without-map']).toBe(2);
    expect(design(designs, 'kmap-local').misuses_by_kind['page-address-without-map']).toBeUndefined();
  });

  it('costs: keys write registers, vmap writes PTEs and shoots down, batching trades shootdowns for exposure', () => {
    const local = design(designs, 'kmap-local');
    const vmap = design(designs, 'vmap');
    const batched = design(designs, 'vmap-batched');
    expect(local.rights_writes).toBeGreaterThan(0);
    expect(local.shootdowns + local.pte_writes).toBe(0);
    expect(local.exposure).toBe(0);
    expect(vmap.pte_writes).toBeGreaterThan(0);
    expect(batched.shootdowns).toBeLessThan(vmap.shootdowns);
    expect(batched.exposure).toBeGreaterThan(vmap.exposure);
    expect(design(designs, 'kmap-redefined').shootdowns).toBeGreaterThan(vmap.shootdowns);
  });

  it('is deterministic for a seed and prints a per-design table', () => {
    const a = run(5);
    expect(run(5)).toEqual(a);
    expect(a.tables![0].rows).toHaveLength(7);
    expect(a.tables![0].columns).toContain('exposure (B x ticks)');
  });

  it('relaxed mode lets caught strays land after warning', () => {
    const relaxed = design(run(1, 'relaxed').designs, 'kmap-local');
    expect(relaxed.by_kind['wrong-thread']!.landed).toBeGreaterThan(0);
  });

  it('protection off runs the unprotected baseline: every stray lands', () => {
    const off = runKmapApisCampaign({ seed: 1, protection: false, mode: 'strict' });
    expect(off.designs.map((d) => d.design)).toEqual(['unprotected']);
    expect(off.strays_landed).toBe(off.strays_attempted);
    // Every block is exposed for the whole run: more than any protecting design.
    expect(off.designs[0].exposure).toBeGreaterThan(Math.max(...designs.map((d) => d.exposure)));
  });

  it('on a capability machine only the capability design applies', () => {
    const r = runKmapApisCampaign({ seed: 1, protection: true, mode: 'strict', arch: 'capability' });
    expect(r.designs.filter((d) => d.unsupported === undefined).map((d) => d.design)).toEqual(['capability']);
    expect(r.strays_attempted).toBe(15);
  });

  it('refuses a mode it does not have', () => {
    expect(() => runKmapApisCampaign({ seed: 1, protection: true, mode: 'soft' })).toThrow(
      /not one of strict, relaxed/,
    );
    expect(kmapApisCampaign.modes[0]).toBe('strict');
  });
});
