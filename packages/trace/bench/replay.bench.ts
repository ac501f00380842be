import { createReadStream, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { LackeyParser, Replayer, definePolicy, formatAddress } from '../src/index';
import { SYNTHETIC_LAYOUT, writeSyntheticTrace } from './synthetic-trace';

/**
 * Replay throughput against a bare read-and-parse loop over the same file, in the same run.
 * Target (issue 7): replay costs at most 2x the bare loop.
 */

const ACCESSES = 10_000_000;
const CHUNK = 1 << 20;
const options = { iterations: 7, warmupIterations: 1, time: 0, warmupTime: 0 } as const;

const dir = mkdtempSync(join(tmpdir(), 'pkeysim-trace-bench-'));
const file = join(dir, 'synthetic.lackey');
const { code, stack, heap, globals } = SYNTHETIC_LAYOUT;
const hex = formatAddress;
const policy = definePolicy({
  maxDomains: 16,
  domains: [
    { name: 'code', rights: 'rx', ranges: [{ start: hex(code.start), size: code.size }] },
    { name: 'stack', rights: 'rw', ranges: [{ start: hex(stack.start), size: stack.size }] },
    { name: 'heap', rights: 'rw', ranges: [{ start: hex(heap.start), size: heap.size }] },
    { name: 'globals', rights: 'r', ranges: [{ start: hex(globals.start), size: globals.size }] },
  ],
  changes: [
    { atAccess: ACCESSES / 2, set: { stack: 'r' } },
    { onFetch: hex(code.start + 0x100), set: { heap: 'rw' } },
  ],
});

const timings = { bare: [] as number[], replay: [] as number[] };
let checksum = 0;

async function bareLoop(): Promise<number> {
  let count = 0;
  const parser = new LackeyParser((batch) => {
    count += batch.length;
  });
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) parser.push(chunk as Buffer);
  parser.end();
  return count;
}

async function replay(): Promise<number> {
  const replayer = new Replayer(policy);
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) replayer.push(chunk as Buffer);
  const report = replayer.finish();
  return report.accesses + report.faults;
}

async function timed(into: number[], run: () => Promise<number>): Promise<void> {
  const start = performance.now();
  checksum += await run();
  into.push(performance.now() - start);
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const perSecond = (ms: number) => Math.round((ACCESSES / ms) * 1000).toLocaleString('en-US');

beforeAll(() => {
  const bytes = writeSyntheticTrace(file, ACCESSES);
  console.log(
    `synthetic lackey trace: ${ACCESSES.toLocaleString('en-US')} accesses, ${(bytes / 2 ** 20).toFixed(1)} MiB`,
  );
}, 300_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  // The warm-up pair is left out. Each pair ran back to back, so its ratio is immune to drift in
  // machine load between pairs: the ratio reported is the median of the pairs' ratios. The ratio of
  // the best times is printed too, since load only ever adds time.
  const bare = timings.bare.slice(options.warmupIterations);
  const replayed = timings.replay.slice(options.warmupIterations);
  const ratios = bare.map((b, i) => replayed[i] / b);
  if (ratios.length === 0) return;
  const line = (name: string, ms: number[]) =>
    `${name}${perSecond(median(ms))} accesses/s (median of ${ms.length}: ${median(ms).toFixed(0)} ms; best ${Math.min(...ms).toFixed(0)} ms)`;
  console.log(
    [
      line('bare read-and-parse: ', bare),
      line('replay with policy:  ', replayed),
      `ratio replay/bare: ${median(ratios).toFixed(2)} (median of per-pair ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}; ` +
        `best/best ${(Math.min(...replayed) / Math.min(...bare)).toFixed(2)}; target <= 2.00) [checksum ${checksum}]`,
    ].join('\n'),
  );
});

describe(`lackey trace of ${ACCESSES.toLocaleString('en-US')} accesses`, () => {
  // One task runs a bare loop and a replay back to back, so both see the same machine load.
  bench(
    'bare read-and-parse loop, then replay with a 5-domain policy',
    async () => {
      await timed(timings.bare, bareLoop);
      await timed(timings.replay, replay);
    },
    options,
  );
});
