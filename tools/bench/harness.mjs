// The harness of the packages' checked benchmarks (plain node scripts under packages/*/bench, run on
// the BUILT package). Rounds interleave the bare reference loop and each measured loop, so every
// ratio compares runs made under the same machine load; the figures are medians of per-round ratios,
// with their range. With --check the script exits 1 when a median misses its target.

/** CPU milliseconds (user + system) of this process: what a shared machine's other load does not inflate. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Operations per CPU second of one round of about `ms` CPU milliseconds of `run` (which does `ops`
 * operations). CPU time, not wall-clock: the machine is shared, and waiting for a core is not work.
 */
export function rate(run, ops, ms) {
  let n = 0;
  let sink = 0;
  const start = cpuMs();
  let elapsed = 0;
  do {
    sink += run();
    n += ops;
    elapsed = cpuMs() - start;
  } while (elapsed < ms);
  if (sink === -1) console.log(sink); // keep the results alive
  return (n / elapsed) * 1000;
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Run `rounds` rounds (after `warmup` unrecorded ones); each round runs the baseline and then every
 * loop once. `loops` is { name: { run, ops } }, `baseline` the name of the reference loop.
 * Returns { rates: { name: number[] }, ratios: { name: number[] } } (ratios to the baseline).
 */
export function interleave(loops, baseline, { rounds = 15, warmup = 3, ms = 40 } = {}) {
  const names = Object.keys(loops);
  const rates = Object.fromEntries(names.map((n) => [n, []]));
  const ratios = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < warmup + rounds; r++) {
    const base = rate(loops[baseline].run, loops[baseline].ops, ms);
    const round = { [baseline]: base };
    for (const name of names) if (name !== baseline) round[name] = rate(loops[name].run, loops[name].ops, ms);
    if (r < warmup) continue;
    for (const name of names) {
      rates[name].push(round[name]);
      ratios[name].push(round[name] / base);
    }
  }
  return { rates, ratios };
}

const millions = (r) => `${(r / 1e6).toFixed(2).padStart(7)} M/s`;
const fixed = (x) => (x >= 0.1 ? x.toFixed(2) : x.toFixed(3));

/**
 * Print one line per loop (median rate, median ratio and its range, target) and, with --check in
 * process.argv, exit 1 if a median ratio is below its target. `targets` is { name: minimum ratio }.
 */
export function report(title, baseline, result, targets = {}, labels = {}) {
  const check = process.argv.includes('--check');
  const failures = [];
  const width = Math.max(...Object.keys(result.rates).map((n) => (labels[n] ?? n).length));
  for (const name of Object.keys(result.rates)) {
    const label = (labels[name] ?? name).padEnd(width);
    const r = median(result.rates[name]);
    if (name === baseline) {
      console.log(`${title}: ${label} ${millions(r)}  (baseline)`);
      continue;
    }
    const ratios = result.ratios[name];
    const m = median(ratios);
    const range = `${fixed(Math.min(...ratios))}-${fixed(Math.max(...ratios))}`;
    const target = targets[name];
    const verdict =
      target === undefined ? '' : m >= target ? `  target >= ${target}: ok` : `  target >= ${target}: MISSED`;
    if (target !== undefined && m < target) failures.push(`${label.trim()} ${fixed(m)} < ${target}`);
    console.log(
      `${title}: ${label} ${millions(r)}  ratio ${fixed(m)} (range ${range}, ${ratios.length} rounds)${verdict}`,
    );
  }
  if (check && failures.length > 0) {
    console.error(`${title}: benchmark targets missed: ${failures.join('; ')}`);
    process.exitCode = 1;
  }
  return failures;
}

/** Fail the check (exit 1 with --check) with a message: for invariants a benchmark verifies. */
export function requireThat(title, ok, message) {
  if (ok) return;
  console.error(`${title}: ${message}`);
  process.exitCode = 1;
}
