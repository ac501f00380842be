import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  mergeRecords,
  pointKey,
  readResults,
  recordsCsv,
  ResultsWriter,
  type SweepPoint,
  type SweepRecord,
} from '../src';

const point = (seed: number): SweepPoint => ({
  campaign: 'pmem',
  scheme: 'x86',
  protection: 'on',
  mode: 'strict',
  cpus: 2,
  costs: 'default',
  cycles: {},
  seed,
});
const record = (seed: number, blocked = seed): SweepRecord => ({
  key: pointKey(point(seed)),
  point: point(seed),
  metrics: { strays_blocked: blocked },
});

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const temp = () => (dir = mkdtempSync(join(tmpdir(), 'sweep-results-')));

describe('results files', () => {
  it('appends one line per point and skips points already in the file when reopened', () => {
    const file = join(temp(), 'r.jsonl');
    const w = new ResultsWriter(file);
    expect(w.append(record(1))).toBe(true);
    expect(w.append(record(1))).toBe(false);
    w.close();
    const again = new ResultsWriter(file);
    expect([...again.done.keys()]).toEqual([record(1).key]);
    expect(again.append(record(1))).toBe(false);
    expect(again.append(record(2))).toBe(true);
    again.close();
    expect(readResults(file).records.map((r) => r.point.seed)).toEqual([1, 2]);
  });

  it('cuts off a line torn by a crash mid-write, so that point runs again', () => {
    const file = join(temp(), 'r.jsonl');
    const w = new ResultsWriter(file);
    w.append(record(1));
    w.close();
    appendFileSync(file, '{"key":"abc","po');
    const resumed = new ResultsWriter(file);
    expect(resumed.done.size).toBe(1);
    resumed.append(record(2));
    resumed.close();
    expect(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).point.seed),
    ).toEqual([1, 2]);
  });

  it('names the file and line of a malformed or hand-edited result', () => {
    const file = join(temp(), 'r.jsonl');
    writeFileSync(file, `${JSON.stringify(record(1))}\nnot json\n`);
    expect(() => readResults(file)).toThrow(`${file}:2: not a JSON line`);
    writeFileSync(file, `${JSON.stringify({ ...record(1), key: record(2).key })}\n`);
    expect(() => readResults(file)).toThrow(/:1: key .* does not match its point/);
    writeFileSync(file, '{"key":"x"}\n');
    expect(() => readResults(file)).toThrow(/:1: not a sweep result/);
  });

  it('merges shards into one record per point, sorted by key, and refuses conflicting results', () => {
    const merged = mergeRecords([
      { file: 'a', records: [record(1), record(3)] },
      { file: 'b', records: [record(2), record(1)] },
    ]);
    expect(merged.map((r) => r.key)).toEqual([record(1), record(2), record(3)].map((r) => r.key).sort());
    expect(() =>
      mergeRecords([
        { file: 'a', records: [record(1)] },
        { file: 'b', records: [record(1, 99)] },
      ]),
    ).toThrow(/different results in a and b/);
  });

  it('writes CSV with one column per axis, cost parameter and metric, quoting what needs it', () => {
    const r: SweepRecord = { key: 'k', point: { ...point(1), cycles: { rights_write: 5 } }, error: 'a "bad", day' };
    const csv = recordsCsv([record(1), r]).split('\r\n');
    expect(csv[0]).toBe(
      'key,campaign,scheme,protection,mode,cpus,costs,seed,cycles.rights_write,strays_attempted,strays_blocked,strays_landed,bytes_corrupted_after_reboot,domain_switches,modeled_cycles,cycles_per_switch,error',
    );
    expect(csv[2]).toBe('k,pmem,x86,on,strict,2,default,1,5,,,,,,,,"a ""bad"", day"');
  });
});
