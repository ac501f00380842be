import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSweep, parseSweep, SWEEP_SCHEMA_FILE, SweepError, sweepJsonSchemaText } from '../src';

function issuesOf(text: string, readCostFile?: (f: string) => string): string[] {
  try {
    parseSweep(text, 'study.yaml', readCostFile);
  } catch (error) {
    if (error instanceof SweepError) return error.issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('sweep files', () => {
  it('fills the defaults: x86, protection on, the consumer default mode, 2 CPUs, core costs', () => {
    const { spec, costSets } = parseSweep('seeds: 1..3\n');
    expect(spec.seeds).toEqual([1, 2, 3]);
    expect(spec.schemes).toEqual(['x86']);
    expect(spec.protection).toEqual(['on']);
    expect(spec.modes).toEqual(['default']);
    expect(spec.cpus).toEqual([2]);
    expect(costSets).toEqual([{ name: 'default', cycles: {} }]);
  });

  it('reads seeds as a list, a range string or from/to', () => {
    expect(parseSweep('seeds: [5, 3, 5]').spec.seeds).toEqual([5, 3]);
    expect(parseSweep('seeds: { from: 7, to: 9 }').spec.seeds).toEqual([7, 8, 9]);
    expect(parseSweep('{"seeds": "0..1"}').spec.seeds).toEqual([0, 1]);
  });

  it('names the line and field of each mistake', () => {
    expect(issuesOf('seeds: 1..2\nschemes: [x86, nope]\n')).toEqual([
      expect.stringMatching(/^2 schemes\[1\]: no architecture or scheme plugin 'nope'/),
    ]);
    expect(issuesOf('seeds: 1..2\ncampaigns:\n  - pmem\n  - disk\n')).toEqual([
      expect.stringMatching(/^4 campaigns\[1\]: no campaign 'disk'/),
    ]);
    expect(issuesOf('seeds: 1..2\ncpus: [0]\n')[0]).toMatch(/^2 cpus\[0\]: /);
    expect(issuesOf('seeds: 1..2\nspeed: 3\n')).toEqual(['2 : unknown field "speed"']);
    expect(issuesOf('schemes: [x86]\n')).toEqual(['1 seeds: required']);
    expect(issuesOf('seeds: 9..1\n')[0]).toMatch(/^1 seeds: an empty or out-of-range seed range 9\.\.1/);
    expect(issuesOf('seeds: 1..200000\n')[0]).toMatch(/200000 seeds; at most 100000/);
    expect(issuesOf('seeds: 1..2\ncost_parameters:\n  rights_wirte: [1, 2]\n')[0]).toMatch(
      /^3 cost_parameters\.rights_wirte: unknown cost event/,
    );
    expect(issuesOf('seeds: [1\n')[0]).toMatch(/syntax error/);
    expect(issuesOf('- 1\n')).toEqual(['1 : a sweep must be a mapping (YAML) or an object (JSON)']);
  });

  it('reads cost files, applies inline cycles over them, and reports a bad cost file at its field', () => {
    const files: Record<string, string> = { 'cheap.yaml': 'rights_write: 10\nshootdown: 5\n', 'bad.yaml': 'nope: 1\n' };
    const read = (f: string) => {
      if (!(f in files)) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return files[f];
    };
    const { costSets } = parseSweep(
      'seeds: [1]\ncosts:\n  - name: cheap\n    file: cheap.yaml\n    cycles: { shootdown: 7 }\n',
      'study.yaml',
      read,
    );
    expect(costSets).toEqual([{ name: 'cheap', cycles: { rights_write: 10, shootdown: 7 } }]);
    expect(issuesOf('seeds: [1]\ncosts:\n  - name: x\n    file: bad.yaml\n', read)[0]).toMatch(
      /^4 costs\[0\]\.file: bad\.yaml:1: nope: unknown cost event/,
    );
    expect(issuesOf('seeds: [1]\ncosts:\n  - name: x\n    file: gone.yaml\n', read)[0]).toMatch(
      /^4 costs\[0\]\.file: cannot read gone\.yaml: ENOENT/,
    );
  });

  it('never throws anything but a SweepError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseSweep(text);
        } catch (error) {
          expect(error).toBeInstanceOf(SweepError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('loads the example sweeps', () => {
    for (const name of ['schemes.yaml', 'costs.yaml']) {
      const file = resolve(import.meta.dirname, '../../../examples/sweeps', name);
      expect(loadSweep(file).spec.seeds.length).toBeGreaterThan(1);
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe(
        '# yaml-language-server: $schema=../../packages/sweep/schema/sweep.schema.json',
      );
    }
  });

  it(`${SWEEP_SCHEMA_FILE} is generated from the zod schema and up to date (UPDATE_SCHEMA=1 rewrites it)`, () => {
    const file = resolve(import.meta.dirname, '..', SWEEP_SCHEMA_FILE);
    const generated = sweepJsonSchemaText();
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(file, generated);
    expect(readFileSync(file, 'utf8')).toBe(generated);
    expect(generated).toContain('"cost_parameters"');
  });
});
