import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { PMEM_CAMPAIGN_SHAPE, PMEM_STRAY_KINDS, pmemCampaign, runPmemCampaign } from '../src';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

describe('the PMEM campaign', () => {
  it.each(SEEDS)(
    'seed %i: strict protection blocks every stray and loses nothing; unprotected, the same seed corrupts data',
    (seed) => {
      const on = runPmemCampaign({ seed, protection: true, mode: 'strict' });
      expect(on.strays_attempted).toBe(PMEM_CAMPAIGN_SHAPE.strays);
      expect(on.strays_landed).toBe(0);
      expect(on.strays_blocked).toBe(on.strays_attempted);
      expect(on.bytes_corrupted_after_reboot).toBe(0);
      expect(on.domain_switches).toBeGreaterThan(0);

      const off = runPmemCampaign({ seed, protection: false, mode: 'strict' });
      expect(off.strays_attempted).toBe(on.strays_attempted);
      expect(off.strays_landed).toBe(off.strays_attempted);
      expect(off.bytes_corrupted_after_reboot).toBeGreaterThan(0);
      expect(off.domain_switches).toBe(0);
      expect(off.notes[0]).toMatch(/disabled by request/);
    },
  );

  it('is deterministic for a seed, and different seeds give different runs', () => {
    const a = runPmemCampaign({ seed: 11, protection: true, mode: 'strict' });
    expect(runPmemCampaign({ seed: 11, protection: true, mode: 'strict' })).toEqual(a);
    expect(runPmemCampaign({ seed: 12, protection: true, mode: 'strict' }).modeled_cycles).not.toBe(a.modeled_cycles);
  });

  it('injects every stray kind and reports each in by_kind', () => {
    const r = runPmemCampaign({ seed: 1, protection: true, mode: 'strict' });
    expect(Object.keys(r.by_kind)).toEqual(PMEM_STRAY_KINDS);
    for (const kind of PMEM_STRAY_KINDS) expect(r.by_kind[kind]!.attempted).toBeGreaterThan(0);
    expect(r.notes.some((n) => /^\d+ oops\(es\); first: BUG: unable to handle page fault/.test(n))).toBe(true);
  });

  it('relaxed mode catches the strays but lets them through after one warning, so data is lost', () => {
    const r = runPmemCampaign({ seed: 1, protection: true, mode: 'relaxed' });
    expect(r.strays_landed).toBe(r.strays_attempted);
    expect(r.bytes_corrupted_after_reboot).toBeGreaterThan(0);
    expect(r.notes).toContain('WARNING: Page map protection being disabled');
    expect(r.notes.some((n) => n.startsWith(`relaxed mode: ${r.strays_attempted} key fault(s)`))).toBe(true);
  });

  it('costs are modeled from the machine events: protection adds domain switches and cycles', () => {
    const on = runPmemCampaign({ seed: 4, protection: true, mode: 'strict' });
    const off = runPmemCampaign({ seed: 4, protection: false, mode: 'strict' });
    expect(on.cycles_per_switch).toBe(100);
    expect(on.modeled_cycles).toBeGreaterThan(off.modeled_cycles);
    expect(off.cycles_per_switch).toBe(0);
  });

  it('refuses the soft mode: PMEM has relaxed and strict only', () => {
    expect(() => runPmemCampaign({ seed: 1, protection: true, mode: 'soft' })).toThrow(
      /mode "soft" is not a PMEM fault mode \(relaxed, strict\)/,
    );
    expect(pmemCampaign.modes).toEqual(['relaxed', 'strict']);
    expect(pmemCampaign.consumer).toBe('pmem');
  });
});
