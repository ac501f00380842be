import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { formatAddress } from '@pkeysim/trace';
import { SYNTHETIC_LAYOUT, writeSyntheticTrace } from '../../trace/bench/synthetic-trace';

/**
 * `pkeysim replay --arch x86` on the built CLI against a streaming byte-split parse of the same
 * 10 M-access file (bench/byte-split-parse.mjs), each a process of its own: CPU seconds of the whole
 * process, start-up included (bench/cpu-report.mjs). Target (issue 14): replay on an architecture
 * costs at most 1.5x the baseline. Pairs run back to back, and the ratio reported is the median of
 * the pairs' ratios, so drift in machine load between pairs cancels out.
 */

const ACCESSES = 10_000_000;
const TARGET = 1.5;
const options = { iterations: 5, warmupIterations: 1, time: 0, warmupTime: 0 } as const;
const bin = fileURLToPath(new URL('../bin/pkeysim.js', import.meta.url));
const report = fileURLToPath(new URL('./cpu-report.mjs', import.meta.url));
const baseline = fileURLToPath(new URL('./byte-split-parse.mjs', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'pkeysim-replay-cpu-'));
const trace = join(dir, 'synthetic.lackey');
const policy = join(dir, 'policy.json');
const { code, stack, heap, globals } = SYNTHETIC_LAYOUT;
const range = (r: { start: number; size: number }) => [{ start: formatAddress(r.start), size: r.size }];
// x86 keys cannot deny fetches: every domain keeps "x" (docs/replay.md).
writeFileSync(
  policy,
  JSON.stringify({
    domains: [
      { name: 'code', rights: 'rx', ranges: range(code) },
      { name: 'stack', rights: 'rwx', ranges: range(stack) },
      { name: 'heap', rights: 'rwx', ranges: range(heap) },
      { name: 'globals', rights: 'rx', ranges: range(globals) },
    ],
    changes: [
      { atAccess: ACCESSES / 2, set: { stack: 'rx' } },
      { onFetch: formatAddress(code.start + 0x100), set: { heap: 'rwx' } },
    ],
  }),
);

/** CPU seconds of `node args`, start-up included. */
function cpuOf(args: string[]): number {
  const child = spawnSync(process.execPath, ['--import', report, ...args], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${child.status}: ${child.stderr}`);
  const match = /bench-cpu-us (\d+)/.exec(child.stderr);
  if (!match) throw new Error(`no CPU report from node ${args.join(' ')}`);
  return Number(match[1]) / 1e6;
}

const timings = { bare: [] as number[], replay: [] as number[], table: [] as number[] };
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

beforeAll(() => {
  writeSyntheticTrace(trace, ACCESSES);
}, 300_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  const bare = timings.bare.slice(options.warmupIterations);
  const replayed = timings.replay.slice(options.warmupIterations);
  const table = timings.table.slice(options.warmupIterations);
  const ratios = bare.map((b, i) => replayed[i] / b);
  if (ratios.length === 0) return;
  const ratio = median(ratios);
  console.log(
    [
      `byte-split parse:        ${median(bare).toFixed(2)} s CPU (median of ${bare.length})`,
      `pkeysim replay --arch x86: ${median(replayed).toFixed(2)} s CPU (median of ${replayed.length})`,
      `pkeysim replay (table):    ${median(table).toFixed(2)} s CPU (median of ${table.length}); --arch x86 / table ${median(replayed.map((r, i) => r / table[i])).toFixed(2)}`,
      `ratio replay/parse: ${ratio.toFixed(2)} (per pair ${ratios.map((r) => r.toFixed(2)).join(', ')}; target <= ${TARGET.toFixed(2)})` +
        (ratio <= TARGET ? '' : '  MISSED'),
    ].join('\n'),
  );
});

describe(`lackey trace of ${ACCESSES.toLocaleString('en-US')} accesses, CPU of whole processes`, () => {
  bench(
    'byte-split parse, then pkeysim replay --arch x86 and without --arch, with a 5-domain policy',
    () => {
      timings.bare.push(cpuOf([baseline, trace]));
      timings.replay.push(cpuOf([bin, 'replay', trace, '--policy', policy, '--arch', 'x86']));
      // The same policy on its own rights table: what the architecture mapping adds.
      timings.table.push(cpuOf([bin, 'replay', trace, '--policy', policy]));
    },
    options,
  );
});
