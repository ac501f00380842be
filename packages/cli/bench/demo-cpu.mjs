// `pkeysim demo --runs 64` on the built CLI: CPU seconds of the whole process (start-up included),
// the target of issue 13 (<= 2 s here), against bare `node -e 0` in the same run. Prints the median
// of ROUNDS runs and its ratio to the bare start; with --check, exits 1 when the target is missed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const check = process.argv.includes('--check');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RUNS = 64;
const TARGET_SECONDS = 2;
const bin = fileURLToPath(new URL('../bin/pkeysim.js', import.meta.url));
const report = fileURLToPath(new URL('./cpu-report.mjs', import.meta.url));

function cpuOf(args) {
  const child = spawnSync(process.execPath, ['--import', report, ...args], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${child.status}: ${child.stderr}`);
  const match = /bench-cpu-us (\d+)/.exec(child.stderr);
  if (!match) throw new Error(`no CPU report from node ${args.join(' ')}`);
  return Number(match[1]) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const bare = [];
const demo = [];
for (let round = 0; round < ROUNDS; round++) {
  bare.push(cpuOf(['-e', '0']));
  demo.push(cpuOf([bin, 'demo', '--runs', String(RUNS)]));
}
const seconds = median(demo);
const ok = seconds <= TARGET_SECONDS;
console.log(
  `pkeysim demo --runs ${RUNS}: ${seconds.toFixed(2)} s CPU (median of ${ROUNDS}; target <= ${TARGET_SECONDS} s), ` +
    `${(seconds / median(bare)).toFixed(1)}x bare node start (${median(bare).toFixed(2)} s)${ok ? '' : '  MISSED'}`,
);
if (check && !ok) {
  console.error('bench:check: the demo CPU target was missed');
  process.exit(1);
}
