import { archOption } from '../arch';
import { readCosts } from '../costs';
import type { CampaignMode, CampaignResult, CampaignRunner } from '@pkeysim/kernel';
import { Option } from 'commander';
import type { Colors } from '../color';
import type { CliCommand } from '../command';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { SCHEMA } from '../json/names';
import { outputOption, withReport } from '../report';
import { checkKnobs, knobsFor, sizeOptions, type SizeFlags } from './campaign-knobs';
import { writeOutputFile } from '../file-output';
import { campaignHtmlReport } from '../html-reports';
import { cliVersion } from '../version';
import { parseSeed } from '../seed';

/**
 * Each consumer's campaign, loaded when it runs: `pkeysim campaign pmem` imports pmem and none of the
 * others (start-up pays for what the run uses). campaign-runners.ts lists the same runners for the
 * demo; a test checks the two agree.
 */
export const CAMPAIGN_PACKAGES: Readonly<Record<string, () => Promise<CampaignRunner>>> = {
  pmem: async () => (await import('@pkeysim/pmem')).pmemCampaign,
  pgtable: async () => (await import('@pkeysim/pgtable-guard')).pgtableCampaign,
  'ro-at-rest': async () => (await import('@pkeysim/ro-at-rest')).roAtRestCampaign,
  'kmap-apis': async () => (await import('@pkeysim/kmap-apis')).kmapApisCampaign,
};
const CONSUMERS = Object.keys(CAMPAIGN_PACKAGES);

const ALL_MODES: readonly CampaignMode[] = ['relaxed', 'strict', 'soft'];

interface CampaignFlags extends SizeFlags {
  seed: number;
  protection: 'on' | 'off';
  mode?: CampaignMode;
  arch: string;
  cpus: number;
  costs?: string;
  json?: boolean;
  output?: string;
  html?: string;
  traceOut?: string;
}

const EXAMPLES = `
Runs a consumer's legitimate work on the seeded scheduler while unrelated code injects stray writes,
then prints what the protection stopped and what it cost. The same seed replays the same run.
With --json, stdout is one JSON document with the same figures instead (schema pkeysim.campaign/1,
docs/output.md). See docs/campaigns.md.

Examples:
  pkeysim campaign pmem --seed 1 --mode strict        PKS on: every stray blocked, nothing corrupted
  pkeysim campaign pmem --seed 1 --protection off     the same run unprotected: data lost after reboot
  pkeysim campaign pmem --seed 7 --mode relaxed --json
  pkeysim campaign kmap-apis --seed 1                 every kmap API design of LSFMM 2022 on one workload
  pkeysim campaign pgtable --seed 1 --threads 12 --ops 200 --spaces 8 --cpus 8   a bigger workload

Size knobs: --threads, --ops and --cpus for every consumer, --spaces for pgtable; the defaults
(3 workers, 20 ops, 2 address spaces, 2 CPUs) are each consumer's fixed shape. Time grows linearly
with threads, ops and spaces (docs/campaigns.md).`;

async function findRunner(consumer: string): Promise<CampaignRunner> {
  const load = Object.hasOwn(CAMPAIGN_PACKAGES, consumer) ? CAMPAIGN_PACKAGES[consumer] : undefined;
  if (!load) throw new UsageError(`no campaign for consumer '${consumer}' (known: ${CONSUMERS.join(', ')})`);
  return load();
}

/** `pkeysim campaign <consumer>`: a seeded stray-write campaign against one consumer's protection. */
export const campaignCommand: CliCommand = {
  register(program, context) {
    const command = program
      .command('campaign')
      .description('inject stray writes into a consumer (pmem, ...) while it works; count what protection stopped')
      .argument('<consumer>', `the consumer to attack: ${CONSUMERS.join(', ')}`)
      .addOption(
        new Option('--seed <n>', 'seed of the scheduler and the workload').argParser(parseSeed).makeOptionMandatory(),
      )
      .addOption(new Option('--protection <on|off>', "the consumer's protection").choices(['on', 'off']).default('on'))
      .addOption(new Option('--mode <mode>', "fault mode (default: the consumer's own default)").choices(ALL_MODES))
      .addOption(archOption());
    for (const option of sizeOptions(2)) command.addOption(option);
    command
      .option('--costs <file>', 'cycles per event (YAML/JSON mapping) for modeled cycles, overriding the defaults')
      .option('--json', 'print the result as one JSON document instead of the table (docs/output.md)')
      .addOption(outputOption())
      .option('--html <file>', 'also write a self-contained HTML report with a chart (opens offline)')
      .option('--trace-out <file>', 'also write the run as a Chrome Trace Event file (Perfetto, chrome://tracing)')
      .addHelpText('after', EXAMPLES)
      .action(
        context.action(async (consumer: string, flags: CampaignFlags) => {
          const runner = await findRunner(consumer);
          const mode = flags.mode ?? runner.modes[0];
          if (!runner.modes.includes(mode))
            throw new UsageError(`${consumer} campaigns have modes ${runner.modes.join(', ')}; got '${mode}'`);
          checkKnobs(runner, flags);
          const costs = flags.costs ? await readCosts(flags.costs) : undefined;
          // The trace recorder and the HTML report load only when asked for.
          const tracing = flags.traceOut ? await loadTracing() : undefined;
          return withReport(context, flags.output, async (out) => {
            const recorder = tracing ? new tracing.MachineTraceRecorder(tracing.costModel(costs)) : undefined;
            if (recorder) recorder.label = `${consumer} campaign, seed ${flags.seed}, protection ${flags.protection}`;
            const ran = runner.run({
              ...knobsFor(runner, flags),
              seed: flags.seed,
              protection: flags.protection === 'on',
              mode,
              arch: recorder && tracing ? tracing.recordingPlugin(tracing.getPlugin(flags.arch), recorder) : flags.arch,
              cpus: flags.cpus,
              costs,
            });
            const result = recorder ? { ...ran, arch: flags.arch } : ran;
            if (recorder && flags.traceOut)
              await writeOutputFile(flags.traceOut, JSON.stringify(recorder.toTraceFile({ campaign: consumer })));
            if (flags.html) {
              const generator = `pkeysim ${cliVersion()}: pkeysim campaign ${consumer} --seed ${flags.seed} --protection ${flags.protection} --mode ${mode} --arch ${flags.arch} --cpus ${flags.cpus}`;
              const { renderHtmlReport } = await import('@pkeysim/inspector');
              await writeOutputFile(flags.html, renderHtmlReport(campaignHtmlReport(result, generator)));
            }
            if (flags.json) await out.line(JSON.stringify({ schema: SCHEMA.campaign, ...result }));
            else for (const line of formatCampaignTable(result, context.colors.stdout)) await out.line(line);
            return ExitCode.Success;
          });
        }),
      );
  },
};

/** What `--trace-out` needs: the recorder, the cost model it prices events with, the plugin registry. */
async function loadTracing() {
  const [{ MachineTraceRecorder, recordingPlugin }, { costModel }, { getPlugin }] = await Promise.all([
    import('@pkeysim/timeline'),
    import('@pkeysim/scenario'),
    import('@pkeysim/core'),
  ]);
  return { MachineTraceRecorder, recordingPlugin, costModel, getPlugin };
}

/** Right-align numbers and left-align text in columns of the widest cell. */
function alignRows(rows: readonly (readonly (string | number)[])[]): string[][] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, String(cell).length)));
  return rows.map((row) =>
    row.map((cell, i) => (typeof cell === 'number' ? String(cell).padStart(widths[i]) : cell.padEnd(widths[i]))),
  );
}

/**
 * The result as a plain-text table: one row per stray kind and a total, then the reboot check, the
 * domain switches and their modeled cost, any rights landed page-table writes would have granted,
 * and the notes. Colour marks landed strays and corruption (red) and a clean run (green).
 */
export function formatCampaignTable(result: CampaignResult, c: Colors): string[] {
  const lines = [
    `${result.consumer} campaign: seed ${result.seed}, protection ${result.protection ? 'on' : 'off'}, mode ${result.mode}, arch ${result.arch}`,
    '',
  ];
  const kinds = Object.entries(result.by_kind);
  const table = alignRows([
    ['stray kind', 'attempted', 'blocked', 'landed'],
    ...kinds.map(([kind, n]) => [kind, n!.attempted, n!.blocked, n!.landed]),
    ['total', result.strays_attempted, result.strays_blocked, result.strays_landed],
  ]);
  table.forEach((cells, i) => {
    const landed = i === 0 ? 0 : i < table.length - 1 ? kinds[i - 1][1]!.landed : result.strays_landed;
    const paint = i === 0 ? c.bold : landed > 0 ? c.red : i === table.length - 1 ? c.green : (s: string) => s;
    lines.push(paint(cells.join('  ').trimEnd()));
  });
  lines.push('');
  const figures: [string, number][] = [];
  if (result.bytes_corrupted_after_reboot !== undefined)
    figures.push(['bytes corrupted after reboot', result.bytes_corrupted_after_reboot]);
  figures.push(
    ['domain switches', result.domain_switches],
    ['modeled cycles', Math.round(result.modeled_cycles)],
    ['cycles per switch', Math.round(result.cycles_per_switch * 100) / 100],
  );
  for (const [i, cells] of alignRows(figures).entries()) {
    const bad = figures[i][0].startsWith('bytes corrupted') && figures[i][1] > 0;
    lines.push((bad ? c.red : (s: string) => s)(cells.join('  ')));
  }
  if (result.granted_rights && result.granted_rights.length > 0) {
    lines.push('', 'landed page-table writes would have granted:');
    for (const g of result.granted_rights)
      lines.push(`  0x${BigInt.asUintN(64, BigInt(g.address)).toString(16)}  ${g.granted}`);
  }
  for (const table of result.tables ?? []) {
    lines.push('', `${table.title}:`);
    for (const [i, cells] of alignRows([table.columns, ...table.rows]).entries())
      lines.push((i === 0 ? c.bold : (s: string) => s)(cells.join('  ').trimEnd()));
  }
  if (result.notes.length > 0) {
    lines.push('', 'notes:');
    for (const note of result.notes) lines.push(`  ${note}`);
  }
  return lines;
}
