// Start-up of the built CLI, the targets of issue 13 point 4: `pkeysim --version` in at most 0.12 s
// of CPU and `pkeysim campaign pmem --seed 1` in at most 0.3 s here, each the median of ROUNDS runs
// interleaved with bare `node -e 0` (printed beside them, with the ratio). With --check, exits 1 when
// a target is missed. Commands load only what they use (docs/architecture.md, "Start-up").
import { cpuOf, median, PKEYSIM_BIN } from './process-cpu.mjs';

const check = process.argv.includes('--check');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const CASES = [
  { label: 'pkeysim --version', args: ['--version'], target: 0.12 },
  { label: 'pkeysim campaign pmem --seed 1', args: ['campaign', 'pmem', '--seed', '1'], target: 0.3 },
];

const bare = [];
const runs = CASES.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  bare.push(cpuOf(['-e', '0']));
  CASES.forEach((c, i) => runs[i].push(cpuOf([PKEYSIM_BIN, ...c.args])));
}
const bareSeconds = median(bare);
const missed = [];
CASES.forEach((c, i) => {
  const seconds = median(runs[i]);
  const ok = seconds <= c.target;
  if (!ok) missed.push(c.label);
  console.log(
    `${c.label.padEnd(32)} ${seconds.toFixed(3)} s CPU (median of ${ROUNDS}; target <= ${c.target} s), ` +
      `${(seconds / bareSeconds).toFixed(2)}x bare node start (${bareSeconds.toFixed(3)} s)${ok ? '' : '  MISSED'}`,
  );
});
if (check && missed.length > 0) {
  console.error(`bench:check: start-up targets missed: ${missed.join('; ')}`);
  process.exit(1);
}
