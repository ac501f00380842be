import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandSweep, parseShard, parseSweep, pointKey, shardPoints } from '../src';

const sweep = (text: string) => expandSweep(parseSweep(text));

describe('points', () => {
  it('crosses every axis in a stable order, seeds innermost', () => {
    const { points } = sweep('campaigns: [pmem]\nschemes: [x86, vkeys]\nprotection: [on, off]\nseeds: 1..2\n');
    expect(points.map((p) => `${p.scheme}/${p.protection}/${p.seed}`)).toEqual([
      'x86/on/1',
      'x86/on/2',
      'x86/off/1',
      'x86/off/2',
      'vkeys/on/1',
      'vkeys/on/2',
      'vkeys/off/1',
      'vkeys/off/2',
    ]);
  });

  it('keys a point by its parameters, not by its place in the sweep file', () => {
    const a = sweep('campaigns: [pmem]\nseeds: [3]\n').points[0];
    const b = sweep('campaigns: [pgtable, pmem]\nschemes: [vkeys, x86]\nseeds: 1..5\n').points.find(
      (p) => p.campaign === 'pmem' && p.scheme === 'x86' && p.seed === 3,
    )!;
    expect(pointKey(a)).toBe(pointKey(b));
    expect(pointKey({ ...a, seed: 4 })).not.toBe(pointKey(a));
    expect(pointKey({ ...a, cycles: { rights_write: 1 } })).not.toBe(pointKey(a));
  });

  it("skips modes a consumer lacks and says so, and resolves 'default' to the consumer's own", () => {
    const { points, skipped } = sweep('campaigns: [pmem, pgtable]\nmodes: [default, relaxed]\nseeds: [1]\n');
    expect(points.map((p) => `${p.campaign}/${p.mode}`)).toEqual(['pmem/relaxed', 'pgtable/strict']);
    expect(skipped).toEqual([expect.stringMatching(/^pgtable has no relaxed mode/)]);
  });

  it('crosses cost models with the cost-parameter grid', () => {
    const { points } = sweep(
      'campaigns: [pmem]\nseeds: [1]\ncosts: [{ name: a }, { name: b, cycles: { shootdown: 9 } }]\ncost_parameters: { rights_write: [1, 2] }\n',
    );
    expect(points.map((p) => `${p.costs}:${JSON.stringify(p.cycles)}`)).toEqual([
      'a:{"rights_write":1}',
      'a:{"rights_write":2}',
      'b:{"rights_write":1,"shootdown":9}',
      'b:{"rights_write":2,"shootdown":9}',
    ]);
  });

  it('refuses a sweep of more than MAX_POINTS points before expanding it', () => {
    expect(() => sweep('seeds: 0..99999\ncpus: [1, 2, 3, 4]\nschemes: [x86, vkeys, pagetable]\n')).toThrow(
      /at most 1000000/,
    );
  });

  it('shards partition the points: every point in exactly one shard', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 60 }), fc.integer({ min: 1, max: 9 }), (items, n) => {
        const shards = Array.from({ length: n }, (_, i) => shardPoints(items, { index: i + 1, count: n }));
        expect(shards.flat().sort()).toEqual([...items].sort());
      }),
    );
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    for (const bad of ['0/8', '9/8', '1/0', 'x', '1/2/3']) expect(() => parseShard(bad)).toThrow(/expected a shard/);
  });
});
