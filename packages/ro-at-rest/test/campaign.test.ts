import { describe, expect, it } from 'vitest';
import { roAtRestCampaign, runRoAtRestCampaign } from '../src';
import './helpers';

const SEEDS = [1, 2, 3, 4];

describe('read-only-at-rest campaign', () => {
  it.each(SEEDS)('seed %i: protection on + strict blocks every stray and every object is intact', (seed) => {
    const r = runRoAtRestCampaign({ seed, protection: true, mode: 'strict' });
    expect(r.strays_attempted).toBeGreaterThan(0);
    expect(r.strays_landed).toBe(0);
    expect(r.strays_blocked).toBe(r.strays_attempted);
    expect(r.domain_switches).toBeGreaterThan(0);
    expect(r.notes.at(-1)).toBe("objects differing from their writers' intent: 0 (0 fields)");
  });

  it.each(SEEDS)('seed %i: the same run with protection off corrupts objects', (seed) => {
    const r = runRoAtRestCampaign({ seed, protection: false, mode: 'strict' });
    expect(r.strays_landed).toBe(r.strays_attempted);
    expect(r.notes.at(-1)).toMatch(/intent: [1-9]/);
    expect(r.domain_switches).toBe(0);
  });

  it('relaxed mode reports but lets the strays land', () => {
    const r = runRoAtRestCampaign({ seed: 1, protection: true, mode: 'relaxed' });
    expect(r.strays_landed).toBe(r.strays_attempted);
    expect(r.notes.some((n) => n.startsWith('ro-at-rest: stray write'))).toBe(true);
  });

  it('is deterministic for a seed', () => {
    expect(runRoAtRestCampaign({ seed: 9, protection: true, mode: 'strict' })).toEqual(
      runRoAtRestCampaign({ seed: 9, protection: true, mode: 'strict' }),
    );
  });

  it('refuses a mode it does not have; strict is the default', () => {
    expect(() => runRoAtRestCampaign({ seed: 1, protection: true, mode: 'soft' })).toThrow(/not a ro-at-rest mode/);
    expect(roAtRestCampaign.modes[0]).toBe('strict');
  });
});
