// Campaign time against workload size: each size knob doubled, the rest fixed, on the built packages.
// Prints the median of per-round ratios t(2n)/t(n) per campaign and knob; with --check, exits 1 when
// a ratio leaves its band. Plain node on dist (no test runner): `npm run bench` / `npm run bench:check`.
//
// Why the band [1.4, 2.6] (spaces: <= 2.6): a cost linear in n with a fixed part (boot, setup, the
// final check) gives a ratio in (1, 2]; the sizes below make the per-op work dominate, so a linear
// campaign lands near 1.7-2.1 (spaces near 1: work per op does not depend on them). A shared 2-core
// host moves single timings by up to ~25%; the median of ROUNDS per-round ratios (each round times both
// sizes back to back) keeps that well inside the band. A quadratic term (the old re-walk of every
// address space per store, or a scheduler scan of every thread ever created) shows as 3-4x.
import '@pkeysim/x86';
import { pmemCampaign } from '@pkeysim/pmem';
import { pgtableCampaign } from '@pkeysim/pgtable-guard';
import { roAtRestCampaign } from '@pkeysim/ro-at-rest';

const check = process.argv.includes('--check');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BASE = { threads: 8, ops: 1000, spaces: 8, cpus: 4 };
const BANDS = { threads: [1.4, 2.6], ops: [1.4, 2.6], spaces: [0, 2.6] };

function cpuSeconds(fn) {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function run(runner, size, seed) {
  const mode = runner.modes.includes('strict') ? 'strict' : runner.modes[0];
  const knobs = {};
  for (const k of ['threads', 'ops', 'spaces']) if (runner.knobs?.includes(k)) knobs[k] = size[k];
  return runner.run({ seed, protection: true, mode, cpus: size.cpus, ...knobs });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

let failed = 0;
console.log(`campaign time, doubled knob / base (median of ${ROUNDS} rounds; base ${JSON.stringify(BASE)})`);
for (const runner of [pmemCampaign, pgtableCampaign, roAtRestCampaign]) {
  for (let i = 0; i < 3; i++) run(runner, BASE, 1); // warm up the JIT before timing
  for (const knob of ['threads', 'ops', 'spaces']) {
    if (!runner.knobs?.includes(knob)) continue;
    const doubled = { ...BASE, [knob]: BASE[knob] * 2 };
    const ratios = [];
    let base = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const seed = 1 + round;
      // Alternate which size goes first, so a drift (JIT, GC, load) does not favour one side.
      let t1;
      let t2;
      if (round % 2 === 0) {
        t1 = cpuSeconds(() => run(runner, BASE, seed));
        t2 = cpuSeconds(() => run(runner, doubled, seed));
      } else {
        t2 = cpuSeconds(() => run(runner, doubled, seed));
        t1 = cpuSeconds(() => run(runner, BASE, seed));
      }
      ratios.push(t2 / t1);
      base += t1;
    }
    const ratio = median(ratios);
    const [low, high] = BANDS[knob];
    const ok = ratio >= low && ratio <= high;
    if (!ok) failed++;
    console.log(
      `${runner.consumer.padEnd(10)} ${knob.padEnd(7)} x2 -> ${ratio.toFixed(2)}x  (band ${low}..${high}; base ${(
        (base / ROUNDS) *
        1000
      ).toFixed(1)} ms)${ok ? '' : '  MISSED'}`,
    );
  }
}
if (check && failed > 0) {
  console.error(`bench:check: ${failed} scaling target(s) missed`);
  process.exit(1);
}
