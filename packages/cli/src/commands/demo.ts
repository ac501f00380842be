import { archOption, loadBundledPlugins } from '../arch';
import {
  CostModel,
  getPlugin,
  listPlugins,
  MACHINE_EVENT_NAMES,
  MachineEvent,
  type ProtectionPlugin,
} from '@pkeysim/core';
import { type CampaignMode, type CampaignResult, type CampaignRunner, SWITCH_COST_EVENTS } from '@pkeysim/kernel';
import { InvalidArgumentError, Option } from 'commander';
import type { CliCommand } from '../command';
import { readCosts } from '../costs';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { SCHEMA } from '../json/names';
import { outputOption, withReport } from '../report';
import { parseSeed, SEED_MAX } from '../seed';
import { ProgressBar } from '../progress';
import type { MachineTraceRecorder, recordingPlugin } from '@pkeysim/timeline';
import { writeOutputFile } from '../file-output';
import { demoHtmlReport } from '../html-reports';
import { cliVersion } from '../version';
import { CAMPAIGN_RUNNERS } from './campaign-runners';
import { knobsFor, sizeOptions, type SizeFlags } from './campaign-knobs';

/** The built-in machine the demo runs on. */
export const DEMO_MACHINE = Object.freeze({ arch: 'x86', cpus: 4, pagingLevels: 4 });

/** The demo machine on another architecture (`--arch`): same CPUs, that architecture's keys. */
export type DemoMachine = Readonly<{ arch: string; cpus: number; pagingLevels: number }>;

/** One row of the demo: a protection scheme and how it fared across every campaign and seed. */
export interface DemoRow {
  readonly scheme: string;
  readonly description: string;
  /** Set when no campaign could run under the scheme: why. */
  readonly unsupported?: string;
  readonly strays_attempted: number;
  readonly strays_blocked: number;
  /** PMEM bytes that differ from what the legitimate writes meant after a simulated reboot. */
  readonly bytes_lost_after_reboot: number;
  readonly domain_switches: number;
  /** Cycles of every event of the runs, priced by the cost model (defaults or --costs). */
  readonly modeled_cycles: number;
  /** Modeled cycles of rights-register traffic and TLB invalidations, per domain switch (null without switches). */
  readonly cycles_per_switch: number | null;
  /** Checked accesses the machines made. */
  readonly accesses: number;
  readonly seconds: number;
  readonly accesses_per_second: number;
  /** Campaigns that could not run under this scheme, with the reason. */
  readonly skipped: readonly string[];
}

export interface DemoOptions {
  /** The architecture of the 'off' and 'keys' rows (default x86); schemes run on their own base. */
  readonly arch?: string;
  readonly seed: number;
  readonly runs: number;
  readonly costs?: Readonly<Record<string, number>>;
  /** Workload size: worker threads, ops per worker, address spaces (pgtable), CPUs (default 4). */
  readonly size?: SizeFlags;
  /** Records every campaign machine for a trace file (--trace-out); absent, nothing is observed. */
  readonly tracing?: DemoTracing;
  /** Called before each campaign run: (runs done, runs in total, what runs now). */
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

/**
 * What `--trace-out` adds to a demo run: the recorder, and timeline's plugin wrapper that records each
 * campaign machine into it. The action imports @pkeysim/timeline only when a trace is asked for.
 */
export interface DemoTracing {
  readonly recorder: MachineTraceRecorder;
  readonly recordingPlugin: typeof recordingPlugin;
}

export interface DemoResult {
  readonly machine: DemoMachine;
  readonly seeds: readonly number[];
  readonly campaigns: readonly string[];
  readonly rows: readonly DemoRow[];
}

interface SchemeSpec {
  readonly scheme: string;
  readonly description: string;
  readonly plugin: ProtectionPlugin;
  readonly protection: boolean;
}

/**
 * Protection off and the architecture's keys; on x86 (the default) also every registered scheme
 * plugin (page tables, virtual keys, ...), which are built on an x86 machine and so are compared
 * with x86 keys, not with another architecture's.
 */
export function demoSchemes(archName: string = DEMO_MACHINE.arch): SchemeSpec[] {
  const arch = getPlugin(archName);
  if (arch.kind !== 'architecture') {
    throw new UsageError(
      `--arch ${archName} is a protection scheme; the demo compares schemes on an architecture (e.g. x86)`,
    );
  }
  const schemes: SchemeSpec[] = [
    {
      scheme: 'off',
      description: 'no protection: the same workload, every key left open',
      plugin: arch,
      protection: false,
    },
    {
      scheme: 'keys',
      description: `${arch.description}: protection keys as the Linux PKS series uses them`,
      plugin: arch,
      protection: true,
    },
  ];
  if (archName !== DEMO_MACHINE.arch) return schemes;
  for (const plugin of listPlugins()) {
    if (plugin.kind === 'scheme' && !plugin.name.startsWith('trace.'))
      schemes.push({ scheme: plugin.name, description: plugin.description, plugin, protection: true });
  }
  return schemes;
}

/** The index of each event name in the machine's counters (MachineEvent values). */
const EVENT_INDEX: ReadonlyMap<string, MachineEvent> = new Map(
  MACHINE_EVENT_NAMES.map((name, index) => [name, index as MachineEvent]),
);

/** What a campaign's machine counted, as the demo totals it: every event priced, switching traffic, accesses. */
function machineFigures(
  result: CampaignResult,
  model: CostModel,
): { cycles: number; switchCycles: number; accesses: number } {
  const events = result.machine_events;
  if (events === undefined) throw new Error(`the ${result.consumer} campaign reports no machine events`);
  let cycles = 0;
  for (const [name, count] of Object.entries(events)) {
    const event = EVENT_INDEX.get(name);
    if (event !== undefined) cycles += count * model.cyclesOf(event);
  }
  let switchCycles = 0;
  for (const event of SWITCH_COST_EVENTS)
    switchCycles += (events[MACHINE_EVENT_NAMES[event]] ?? 0) * model.cyclesOf(event);
  const accesses =
    (events[MACHINE_EVENT_NAMES[MachineEvent.Access]] ?? 0) + (events[MACHINE_EVENT_NAMES[MachineEvent.Fault]] ?? 0);
  return { cycles, switchCycles, accesses };
}

/** The mode each campaign runs in: strict where the consumer has it (a stray oopses instead of landing). */
function demoMode(runner: CampaignRunner): CampaignMode {
  return runner.modes.includes('strict') ? 'strict' : runner.modes[0];
}

/** Run every campaign under every scheme for each seed and total them per scheme. */
export function runDemo(options: DemoOptions): DemoResult {
  const model = new CostModel(options.costs);
  const seeds = Array.from({ length: options.runs }, (_, i) => options.seed + i);
  const cpus = options.size?.cpus ?? DEMO_MACHINE.cpus;
  const machine: DemoMachine = { ...DEMO_MACHINE, cpus, arch: options.arch ?? DEMO_MACHINE.arch };
  const schemes = demoSchemes(machine.arch);
  const total = schemes.length * CAMPAIGN_RUNNERS.length * seeds.length;
  const tracing = options.tracing;
  const sums = schemes.map(() => ({
    attempted: 0,
    blocked: 0,
    lost: 0,
    switches: 0,
    cycles: 0,
    switchCycles: 0,
    accesses: 0,
    seconds: 0,
    runs: 0,
    skipped: [] as string[],
  }));
  const archs = schemes.map((spec) =>
    tracing ? tracing.recordingPlugin(spec.plugin, tracing.recorder) : spec.plugin.name,
  );
  /** (scheme, campaign) pairs that failed once: their later seeds are not run. */
  const failed = schemes.map(() => CAMPAIGN_RUNNERS.map(() => false));
  let done = 0;
  // Seed by seed, every scheme and campaign in turn: the totals do not depend on the order, and V8
  // then sees every scheme's machine before it optimises the kernel and consumers (scheme by scheme,
  // each new machine class deoptimised and recompiled them: about 0.5 s of a 64-seed demo's CPU).
  for (const seed of seeds) {
    for (let s = 0; s < schemes.length; s++) {
      const spec = schemes[s];
      const sum = sums[s];
      for (let c = 0; c < CAMPAIGN_RUNNERS.length; c++) {
        const runner = CAMPAIGN_RUNNERS[c];
        const label = `${runner.consumer} under ${spec.scheme}, seed ${seed}`;
        options.onProgress?.(done++, total, label);
        if (failed[s][c]) continue;
        if (tracing) tracing.recorder.label = label;
        const start = performance.now();
        let result;
        try {
          result = runner.run({
            ...knobsFor(runner, options.size ?? {}),
            seed,
            protection: spec.protection,
            mode: demoMode(runner),
            arch: archs[s],
            cpus,
          });
        } catch (error) {
          sum.skipped.push(`${runner.consumer}: ${(error as Error).message}`);
          failed[s][c] = true;
          continue;
        }
        sum.seconds += (performance.now() - start) / 1000;
        sum.runs++;
        sum.attempted += result.strays_attempted;
        sum.blocked += result.strays_blocked;
        sum.lost += result.bytes_corrupted_after_reboot ?? 0;
        sum.switches += result.domain_switches;
        const figures = machineFigures(result, model);
        sum.cycles += figures.cycles;
        sum.switchCycles += figures.switchCycles;
        sum.accesses += figures.accesses;
      }
    }
  }
  options.onProgress?.(done, total, 'done');
  const rows: DemoRow[] = schemes.map((spec, s) => {
    const sum = sums[s];
    const perSwitch = sum.switches > 0 ? sum.switchCycles / sum.switches : null;
    return {
      scheme: spec.scheme,
      description: spec.description,
      ...(sum.runs === 0 ? { unsupported: sum.skipped.join('; ') } : {}),
      strays_attempted: sum.attempted,
      strays_blocked: sum.blocked,
      bytes_lost_after_reboot: sum.lost,
      domain_switches: sum.switches,
      modeled_cycles: sum.cycles,
      cycles_per_switch: perSwitch,
      accesses: sum.accesses,
      seconds: sum.seconds,
      accesses_per_second: sum.seconds > 0 ? sum.accesses / sum.seconds : 0,
      skipped: sum.skipped,
    };
  });
  return { machine, seeds, campaigns: CAMPAIGN_RUNNERS.map((r) => r.consumer), rows };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The one table the demo ends with, plus what it means and which rows could not run. */
export function formatDemoTable(result: DemoResult): string[] {
  const header = [
    'scheme',
    'strays blocked',
    'bytes lost after reboot',
    'domain switches',
    'modeled cycles',
    'cycles/switch',
    'accesses',
  ];
  const rows = result.rows
    .filter((r) => r.unsupported === undefined)
    .map((r) => [
      r.scheme,
      `${int(r.strays_blocked)} / ${int(r.strays_attempted)}`,
      int(r.bytes_lost_after_reboot),
      int(r.domain_switches),
      int(r.modeled_cycles),
      r.cycles_per_switch === null ? '-' : int(r.cycles_per_switch),
      int(r.accesses),
    ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const out = [line(header), ...rows.map(line)];
  out.push(
    '',
    `campaigns: ${result.campaigns.join(', ')} (strict fault modes), seeds ${result.seeds[0]}..${result.seeds[result.seeds.length - 1]}`,
    'cycles/switch: modeled cycles of rights-register writes, TLB flushes and shootdowns, per domain switch',
    'modeled cycles: every event of the runs, priced by the cost model in docs/costs.md',
    'accesses: checked accesses the simulated machines made (faulting ones included)',
  );
  for (const r of result.rows) {
    if (r.unsupported !== undefined) out.push(`${r.scheme}: not run: ${r.unsupported}`);
    else for (const s of r.skipped) out.push(`${r.scheme}: campaign skipped: ${s}`);
  }
  return out;
}

/**
 * The one line of figures the seed does not decide: how fast this host simulated (CPU load and
 * hardware change it from run to run), kept out of the table so the table replays exactly.
 */
export function formatWallClock(result: DemoResult): string {
  const ran = result.rows.filter((r) => r.unsupported === undefined);
  const seconds = ran.reduce((sum, r) => sum + r.seconds, 0);
  const accesses = ran.reduce((sum, r) => sum + r.accesses, 0);
  const rate = seconds > 0 ? accesses / seconds : 0;
  return `wall clock (this host, varies run to run): ${seconds.toFixed(2)} s simulating, ${int(rate)} simulated accesses/s`;
}

interface DemoFlags extends SizeFlags {
  arch: string;
  seed: number;
  runs: number;
  costs?: string;
  json?: boolean;
  output?: string;
  html?: string;
  traceOut?: string;
}

function parseCount(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > max) throw new InvalidArgumentError(`must be a whole number from 0 to ${max}`);
    return n;
  };
}

const HELP = `
The main job: why protection keys matter, in under a minute. On a built-in machine (x86, 4 CPUs,
4-level paging, PKS and PKU, a PMEM namespace, page-table protection on) it runs every consumer's
stray-write campaign (PMEM, page tables, read-only-at-rest data) with protection off, with keys,
and under every registered protection scheme, then prints one table: strays blocked, PMEM bytes
lost after a reboot, domain switches, modeled cycles, cycles per switch and accesses: every figure
of the table follows from the seeds. How fast this host simulated is a separate line below it.
A progress bar is drawn on stderr when it is a terminal.

Size knobs (docs/campaigns.md): --threads, --ops, --spaces and --cpus size every campaign's
workload (defaults: 3 workers, 20 ops, 2 address spaces, 4 CPUs; a few seconds in all); --runs
sets the seeds per campaign and scheme.

Examples:
  pkeysim demo                       (also: npm start)
  pkeysim demo --seed 7 --runs 2
  pkeysim demo --runs 64 --threads 6 --ops 40   more seeds, a bigger workload
  pkeysim demo --costs costs.yaml    price events differently (docs/costs.md)
  pkeysim demo --arch arm64-poe      the same campaigns on arm64 POE (also: --arch power)
  pkeysim demo --json
  pkeysim demo --html report.html    also write the table and charts as one offline HTML file`;

/** `pkeysim demo`: every campaign under every scheme, one table. */
export const demoCommand: CliCommand = {
  register(program, context) {
    const command = program
      .command('demo')
      .description('run the stray-write campaigns under every protection scheme and print one comparison table')
      .addOption(archOption('architecture of the off and keys rows; schemes are compared on x86'))
      .addOption(new Option('--seed <n>', `first seed (0..${SEED_MAX})`).argParser(parseSeed).default(1))
      .addOption(new Option('--runs <n>', 'seeds per campaign and scheme').argParser(parseCount(100)).default(4))
      .option('--costs <file>', 'cycles per event (YAML/JSON mapping), overriding the defaults')
      .option('--json', 'print the result as one JSON document instead of the table (docs/output.md)')
      .option('--html <file>', 'also write a self-contained HTML report with charts (opens offline)')
      .option('--trace-out <file>', 'also write every campaign machine as a Chrome Trace Event file (Perfetto)')
      .addOption(outputOption())
      .addHelpText('after', HELP);
    for (const option of sizeOptions(DEMO_MACHINE.cpus)) command.addOption(option);
    command.action(
      context.action(async (flags: DemoFlags) => {
        // On x86 the demo compares every bundled scheme (the preAction hook loaded --arch itself).
        if (flags.arch === DEMO_MACHINE.arch) await loadBundledPlugins('scheme');
        if (flags.runs < 1) throw new UsageError('--runs must be at least 1');
        // Every seed run must be one `campaign --seed` accepts too.
        if (flags.seed + flags.runs - 1 > SEED_MAX)
          throw new UsageError(
            `--seed ${flags.seed} with --runs ${flags.runs} runs seeds up to ${flags.seed + flags.runs - 1}; the last must be at most ${SEED_MAX}`,
          );
        const costs = flags.costs ? await readCosts(flags.costs) : undefined;
        // A scheme given as --arch is refused here, before the table's header is printed.
        demoSchemes(flags.arch);
        return withReport(context, flags.output, async (out) => {
          const c = context.colors.stdout;
          if (!flags.json) {
            await out.line(
              c.bold('pkeysim demo: stray writes against protected kernel data, under every protection scheme'),
            );
            await out.line(
              flags.arch === DEMO_MACHINE.arch
                ? `machine: ${DEMO_MACHINE.arch}, ${flags.cpus} CPUs, ${DEMO_MACHINE.pagingLevels}-level paging, PKS and PKU, a PMEM namespace, page-table protection on`
                : `machine: ${flags.arch}, ${flags.cpus} CPUs, its protection keys, a PMEM namespace, page-table protection on`,
            );
            await out.line('');
          }
          let bar: ProgressBar | undefined;
          // The trace recorder and the HTML renderer load only when asked for.
          const timeline = flags.traceOut ? await import('@pkeysim/timeline') : undefined;
          const recorder = timeline ? new timeline.MachineTraceRecorder(new CostModel(costs)) : undefined;
          const result = runDemo({
            tracing: timeline && recorder ? { recorder, recordingPlugin: timeline.recordingPlugin } : undefined,
            arch: flags.arch,
            seed: flags.seed,
            runs: flags.runs,
            costs,
            size: { threads: flags.threads, ops: flags.ops, spaces: flags.spaces, cpus: flags.cpus },
            onProgress: (done, total, label) => {
              bar ??= new ProgressBar(context.io.stderr, total);
              bar.update(done, label);
            },
          });
          bar?.done();
          if (recorder && flags.traceOut)
            await writeOutputFile(flags.traceOut, JSON.stringify(recorder.toTraceFile({ demo: true })));
          if (flags.html) {
            const lines = formatDemoTable(result);
            const notes = lines.slice(lines.indexOf('') + 1);
            const generator = `pkeysim ${cliVersion()}: pkeysim demo --arch ${flags.arch} --seed ${flags.seed} --runs ${flags.runs}${flags.costs ? ` --costs ${flags.costs}` : ''}`;
            const { renderHtmlReport } = await import('@pkeysim/inspector');
            await writeOutputFile(flags.html, renderHtmlReport(demoHtmlReport(result, notes, generator)));
          }
          if (flags.json) await out.line(JSON.stringify({ schema: SCHEMA.demo, ...result }));
          else {
            for (const line of formatDemoTable(result)) await out.line(line);
            await out.line('');
            await out.line(formatWallClock(result));
          }
          return ExitCode.Success;
        });
      }),
    );
  },
};
