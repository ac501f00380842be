// CPU seconds of a whole `node` process (start-up included, every thread), measured by preloading
// cpu-report.mjs; shared by the start-up and demo CPU benches.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const report = fileURLToPath(new URL('./cpu-report.mjs', import.meta.url));

/** The built CLI's bin, as the published package runs it. */
export const PKEYSIM_BIN = fileURLToPath(new URL('../bin/pkeysim.js', import.meta.url));

/** CPU seconds `node ARGS...` used; throws when it exits non-zero or prints no report. */
export function cpuOf(args) {
  return cpuSplitOf(args).total;
}

/**
 * CPU seconds of `node ARGS...`: in total, and on the main thread when the system tells (Linux);
 * the rest is V8's background threads (optimising compiler, GC).
 */
export function cpuSplitOf(args) {
  const child = spawnSync(process.execPath, ['--import', report, ...args], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${child.status}: ${child.stderr}`);
  const match = /bench-cpu-us (\d+)/.exec(child.stderr);
  if (!match) throw new Error(`no CPU report from node ${args.join(' ')}`);
  const main = /bench-main-us (\d+)/.exec(child.stderr);
  return { total: Number(match[1]) / 1e6, main: main ? Number(main[1]) / 1e6 : undefined };
}

/** The median of `xs` (the upper one for an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
