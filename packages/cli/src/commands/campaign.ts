import { archOption } from '../arch';
import { readCosts } from '../costs';
import type { CampaignMode, CampaignResult, CampaignRunner } from '@pkeysim/kernel';
import { pmemCampaign } from '@pkeysim/pmem';
import { pgtableCampaign } from '@pkeysim/pgtable-guard';
import { roAtRestCampaign } from '@pkeysim/ro-at-rest';
import { InvalidArgumentError, Option } from 'commander';
import type { Colors } from '../color';
import type { CliCommand } from '../command';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { LineWriter } from '../output';
import { parseSeed } from '../seed';

/**
 * Every consumer's campaign, by name. To add one, import its `CampaignRunner` and add it here: the
 * command, its help, option checks, table and JSON line work for it unchanged (docs/campaigns.md).
 */
export const CAMPAIGN_RUNNERS: readonly CampaignRunner[] = [pmemCampaign, pgtableCampaign, roAtRestCampaign];

const ALL_MODES: readonly CampaignMode[] = ['relaxed', 'strict', 'soft'];

interface CampaignFlags {
  seed: number;
  protection: 'on' | 'off';
  mode?: CampaignMode;
  arch: string;
  cpus: number;
  costs?: string;
  json?: boolean;
}

const EXAMPLES = `
Runs a consumer's legitimate work on the seeded scheduler while unrelated code injects stray writes,
then prints what the protection stopped and what it cost. The same seed replays the same run.
With --json the last line is one JSON object with the same figures. See docs/campaigns.md.

Examples:
  pkeysim campaign pmem --seed 1 --mode strict        PKS on: every stray blocked, nothing corrupted
  pkeysim campaign pmem --seed 1 --protection off     the same run unprotected: data lost after reboot
  pkeysim campaign pmem --seed 7 --mode relaxed --json`;

function parseCpus(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new InvalidArgumentError('must be a whole number from 1 to 64');
  return n;
}

function findRunner(consumer: string): CampaignRunner {
  const runner = CAMPAIGN_RUNNERS.find((r) => r.consumer === consumer);
  if (!runner) {
    const known = CAMPAIGN_RUNNERS.map((r) => r.consumer).join(', ');
    throw new UsageError(`no campaign for consumer '${consumer}' (known: ${known})`);
  }
  return runner;
}

/** `pkeysim campaign <consumer>`: a seeded stray-write campaign against one consumer's protection. */
export const campaignCommand: CliCommand = {
  register(program, context) {
    program
      .command('campaign')
      .description('inject stray writes into a consumer (pmem, ...) while it works; count what protection stopped')
      .argument('<consumer>', `the consumer to attack: ${CAMPAIGN_RUNNERS.map((r) => r.consumer).join(', ')}`)
      .addOption(
        new Option('--seed <n>', 'seed of the scheduler and the workload').argParser(parseSeed).makeOptionMandatory(),
      )
      .addOption(new Option('--protection <on|off>', "the consumer's protection").choices(['on', 'off']).default('on'))
      .addOption(new Option('--mode <mode>', "fault mode (default: the consumer's own default)").choices(ALL_MODES))
      .addOption(archOption())
      .addOption(new Option('--cpus <n>', 'number of CPUs').argParser(parseCpus).default(2))
      .option('--costs <file>', 'cycles per event (YAML/JSON mapping) for modeled cycles, overriding the defaults')
      .option('--json', 'also print the result as one JSON object on the last line')
      .addHelpText('after', EXAMPLES)
      .action(
        context.action(async (consumer: string, flags: CampaignFlags) => {
          const runner = findRunner(consumer);
          const mode = flags.mode ?? runner.modes[0];
          if (!runner.modes.includes(mode))
            throw new UsageError(`${consumer} campaigns have modes ${runner.modes.join(', ')}; got '${mode}'`);
          const result = runner.run({
            seed: flags.seed,
            protection: flags.protection === 'on',
            mode,
            arch: flags.arch,
            cpus: flags.cpus,
            costs: flags.costs ? await readCosts(flags.costs) : undefined,
          });
          const out = new LineWriter(context.io.stdout);
          for (const line of formatCampaignTable(result, context.colors.stdout)) await out.line(line);
          if (flags.json) await out.line(JSON.stringify(result));
          out.release();
          return ExitCode.Success;
        }),
      );
  },
};

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
  if (result.notes.length > 0) {
    lines.push('', 'notes:');
    for (const note of result.notes) lines.push(`  ${note}`);
  }
  return lines;
}
