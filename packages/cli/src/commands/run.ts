import { pksVersionTraits } from '@pkeysim/kernel';
import '@pkeysim/x86';
import { readFile, stat } from 'node:fs/promises';
import {
  budgetMessage,
  formatCostReport,
  formatEvent,
  formatIssue,
  type LoadedScenario,
  parseCosts,
  parseScenario,
  resolveLimits,
  type RunResult,
  runScenario,
  ScenarioError,
} from '@pkeysim/scenario';
import { recordScenario, toTraceEvents } from '@pkeysim/timeline';
import { Option } from 'commander';
import { archNames, checkArchName, loadBundledPlugins } from '../arch';
import type { CliCommand, CommandContext } from '../command';
import { fileReadError, systemErrorCode, UsageError } from '../errors';
import { shippedExampleFor } from '../examples';
import { writeOutputFile } from '../file-output';
import { ExitCode } from '../exit-codes';
import { addLimitOptions, limitsFromFlags } from '../limit-options';
import { SCHEMA } from '../json/names';
import type { LineWriter } from '../output';
import { outputOption, withReport } from '../report';

interface RunFlags {
  json?: boolean;
  costs?: string;
  output?: string;
  traceOut?: string;
  arch?: string;
  [budget: string]: unknown;
}

const HELP = `
Runs a scenario file (YAML or JSON; format: docs/scenarios.md) on a fresh simulated machine and
kernel, deterministically: the same file and seed give the same log. Prints the event log (every
op, access decision, rights-register write, context switch, entry/exit, fault and kernel log line),
the modeled cost per CPU and per event, and whether every assertion under expect: held.

Exit codes: 0 every assertion held, 1 an assertion failed or the report could not be written,
2 bad input (the file, or --costs, or a budget exceeded: steps, events kept, threads, forks, memory
entries, nesting depth, repeat product, YAML aliases, input bytes; each --max-* flag raises one,
docs/limits.md lists the defaults).

--json prints JSON Lines (one JSON document per line, schema pkeysim.run/1 on every line): each
event, then {"type":"costs"}, then {"type":"result"}. See docs/output.md.

Examples:
  pkeysim run examples/context-switch.yaml
  pkeysim run examples/pmem-stray-write.yaml --json | jq -c 'select(.type == "fault")'
  pkeysim run my.yaml --costs my-costs.yaml    cycles per event from a file (overrides the scenario's)
  pkeysim run my.yaml -o run.log               the report in a file, written atomically
  pkeysim run examples/rfc-v1-interrupt.yaml --trace-out t.json    open t.json in Perfetto (docs/timeline.md)
  pkeysim run examples/user-pkeys-every-arch.yaml --arch power
                                              the same ops on another architecture (its \`on:\` expectations)`;

/** The scenario as if its file named `arch` (the same ops; `on: { arch: ... }` expectations apply). */
function onArch(loaded: LoadedScenario, arch: string): LoadedScenario {
  return { ...loaded, scenario: { ...loaded.scenario, machine: { ...loaded.scenario.machine, arch } } };
}

/** Read a file named on the command line ("-" is stdin). */
async function readInput(path: string, context: CommandContext, maxBytes: number): Promise<string> {
  const tooBig = (bytes: number) =>
    new UsageError(`${path === '-' ? '<stdin>' : path}: the file ${budgetMessage('inputBytes', bytes, maxBytes)}`);
  if (path === '-') {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of context.io.stdin) {
      const buffer = Buffer.from(chunk as string | Buffer);
      bytes += buffer.length;
      // Stop reading as soon as the budget is passed: the rest of the stream is never held.
      if (bytes > maxBytes) throw tooBig(bytes);
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    const size = (await stat(path)).size;
    if (size > maxBytes) throw tooBig(size);
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const shipped = systemErrorCode(error) === 'ENOENT' ? shippedExampleFor(path) : undefined;
    if (shipped) return readFile(shipped, 'utf8');
    throw fileReadError(path, error);
  }
}

/** Load the scenario and cost file; every problem is one `pkeysim: file:line: field: message` line. */
async function load(
  file: string,
  flags: RunFlags,
  context: CommandContext,
): Promise<{ loaded: LoadedScenario; costs?: Record<string, number> } | undefined> {
  const name = file === '-' ? '<stdin>' : file;
  try {
    const limits = limitsFromFlags(flags);
    const maxBytes = resolveLimits(limits).inputBytes;
    const loaded = parseScenario(await readInput(file, context, maxBytes), name, { limits });
    const costs = flags.costs
      ? parseCosts(await readInput(flags.costs, context, maxBytes), flags.costs, { limits })
      : undefined;
    return { loaded, costs };
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    for (const issue of error.issues) context.report(formatIssue(issue));
    return undefined;
  }
}

/** The key design and entry code the kernel runs: a scenario's pks_version decides them (scenario run.ts). */
function kernelLine(k: LoadedScenario['scenario']['kernel']): string {
  if (!k.pks_version) return `${k.key_design} keys, ${k.entry_mode} entry`;
  const version = pksVersionTraits(k.pks_version);
  const entry = k.entry_mode === 'aux-pt-regs' ? version.entryMode : k.entry_mode;
  return `PKS ${k.pks_version}, ${version.keyDesign} keys, ${entry} entry`;
}

function machineLine(loaded: LoadedScenario): string {
  const { machine: m, kernel: k } = loaded.scenario;
  const on = (b: boolean) => (b ? 'on' : 'off');
  return (
    `machine: ${m.arch}, ${m.cpus} CPU${m.cpus > 1 ? 's' : ''}, ${m.paging_levels}-level paging, PKS ${on(m.features.pks)}, PKU ${on(m.features.pku)}; ` +
    `kernel: ${kernelLine(k)}, ${k.fault_mode} key faults`
  );
}

async function printText(
  out: LineWriter,
  result: RunResult,
  loaded: LoadedScenario,
  context: CommandContext,
): Promise<void> {
  const c = context.colors.stdout;
  await out.line(c.bold(`scenario ${result.name} (${result.file}), seed ${result.seed}`));
  await out.line(machineLine(loaded));
  await out.line('');
  for (const event of result.events) {
    const line = formatEvent(event);
    await out.line(event.type === 'fault' ? c.red(line) : event.type === 'log' ? c.dim(line) : line);
  }
  await out.line('');
  await out.line(`modeled cost, cycles (counted after boot):`);
  for (const line of formatCostReport(result.costs)) await out.line(`  ${line}`);
  await out.line('');
  const threads = result.threads.map((t) => `${t.name} ${t.state}`).join(', ');
  await out.line(
    `threads: ${threads}; faults: ${result.faults.length}${result.panic ? `; PANIC: ${result.panic}` : ''}`,
  );
  await out.line(
    result.passed
      ? c.green('PASS: every assertion held')
      : c.red(`FAIL: ${result.failures.length} assertion(s) failed`),
  );
}

/** JSON Lines: every line is one document carrying the schema, so a line read alone says what it is. */
async function printJson(out: LineWriter, result: RunResult): Promise<void> {
  const schema = SCHEMA.run;
  for (const event of result.events) await out.line(JSON.stringify({ schema, ...event }));
  await out.line(JSON.stringify({ schema, type: 'costs', ...result.costs }));
  await out.line(
    JSON.stringify({
      schema,
      type: 'result',
      scenario: result.name,
      file: result.file,
      seed: result.seed,
      passed: result.passed,
      failures: result.failures.map((f) => ({ file: result.file, ...f })),
      threads: result.threads,
      faults: result.faults.length,
      panic: result.panic ?? null,
    }),
  );
}

/** `pkeysim run FILE`: execute a scenario file and check its assertions. */
export const runCommand: CliCommand = {
  register(program, context) {
    const command = program
      .command('run')
      .description('run a scenario file (YAML/JSON) and check its assertions; prints the event log and modeled cost')
      .argument('<file>', 'the scenario file; "-" reads stdin')
      .option('--json', 'print JSON Lines: one per event, then the cost report and the result (docs/output.md)')
      .option('--costs <file>', 'cycles per event (YAML/JSON mapping), overriding the defaults and the scenario')
      .addOption(outputOption())
      .option('--trace-out <file>', 'also write the run as a Chrome Trace Event file (Perfetto, chrome://tracing)')
      .addOption(
        new Option(
          '--arch <name>',
          `run on this architecture instead of the file's machine.arch (${archNames().join(', ')})`,
        ).argParser(checkArchName),
      );
    addLimitOptions(command)
      .addHelpText('after', HELP)
      .action(
        context.action(async (file: string, flags: RunFlags) => {
          // The file's machine.arch may name any bundled architecture or scheme.
          await loadBundledPlugins();
          const input = await load(file, flags, context);
          if (!input) return ExitCode.BadInput;
          const loaded = flags.arch ? onArch(input.loaded, flags.arch) : input.loaded;
          return withReport(context, flags.output, async (out) => {
            let result: RunResult;
            let trace: string | undefined;
            try {
              if (flags.traceOut) {
                const recording = recordScenario(loaded, { costs: input.costs });
                result = recording.result;
                trace = JSON.stringify(toTraceEvents(recording.timeline));
              } else result = runScenario(loaded, { costs: input.costs });
            } catch (error) {
              if (!(error instanceof ScenarioError)) throw error;
              for (const issue of error.issues) context.report(formatIssue(issue));
              return ExitCode.BadInput;
            }
            if (flags.traceOut && trace !== undefined) await writeOutputFile(flags.traceOut, trace);
            if (flags.json) await printJson(out, result);
            else await printText(out, result, loaded, context);
            for (const f of result.failures) {
              context.io.stderr.write(
                `${context.colors.stderr.red('FAIL')} ${result.file}:${f.line}: ${f.path}: ${f.message}\n`,
              );
            }
            return result.passed ? ExitCode.Success : ExitCode.Failed;
          });
        }),
      );
  },
};
