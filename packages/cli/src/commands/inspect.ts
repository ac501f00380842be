import '@pkeysim/x86';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { inspectorPayload, InspectorPortError, serveInspector } from '@pkeysim/inspector';
import { formatIssue, parseCosts, parseScenario, type RunEvent, ScenarioError } from '@pkeysim/scenario';
import { recordScenario, type Timeline } from '@pkeysim/timeline';
import { InvalidArgumentError, Option } from 'commander';
import type { CliCommand, CommandContext } from '../command';
import { fileReadError, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';

interface InspectFlags {
  port: number;
  open: boolean;
  costs?: string;
}

/** Events an inspected `--json` log may hold; a longer file is refused rather than loaded whole. */
export const INSPECT_MAX_LOG_EVENTS = 200_000;

const HELP = `
Runs a scenario file (or loads the event log \`pkeysim run FILE --json\` saved) and serves a page on
127.0.0.1 that shows the run at any step: each CPU's thread, entry nesting and rights register
decoded per key by the architecture's own plugin, the key table, threads' saved rights, page tables
and TLBs, faults and oopses, and the timeline. Step with the buttons, the arrow keys, the scrubber,
or by clicking an event. The page is prebuilt: no build and no network. Ctrl-C stops the server.
See docs/inspector.md.

Exit codes: 0 stopped, 2 bad input (the file, the port in use).

Examples:
  pkeysim inspect examples/rfc-v1-interrupt.yaml
  pkeysim inspect examples/context-switch.yaml --port 9000 --no-open
  pkeysim run my.yaml --json > run.jsonl && pkeysim inspect run.jsonl`;

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a whole number from 0 to 65535');
  return n;
}

/** A saved `run --json` log: JSON lines, events (with seq and type) first, then costs and result. */
function parseEventLog(text: string, file: string): Timeline | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const first = lines[0]?.trim() ?? '';
  if (!first.startsWith('{')) return undefined;
  let head: unknown;
  try {
    head = JSON.parse(first);
  } catch {
    return undefined;
  }
  if (typeof head !== 'object' || head === null || !('seq' in head) || !('type' in head)) return undefined;
  if (lines.length > INSPECT_MAX_LOG_EVENTS + 2)
    throw new UsageError(`${file}: more than ${INSPECT_MAX_LOG_EVENTS} events; inspect the scenario instead`);
  const events: RunEvent[] = [];
  let result: { scenario?: string; seed?: number; passed?: boolean; threads?: Timeline['threads'] } = {};
  lines.forEach((line, i) => {
    let record: { type?: unknown; seq?: unknown; cpu?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      throw new UsageError(`${file}:${i + 1}: not a JSON line (expected the output of "pkeysim run FILE --json")`);
    }
    if (record.type === 'result') result = record as typeof result;
    else if (record.type !== 'costs') {
      if (record.seq !== events.length || typeof record.cpu !== 'number')
        throw new UsageError(`${file}:${i + 1}: event ${events.length} expected (seq and cpu fields)`);
      events.push(record as RunEvent);
    }
  });
  const cpus = Math.max(1, ...events.map((e) => e.cpu + 1));
  return {
    format: 'pkeysim-timeline',
    version: 1,
    name: result.scenario ?? file,
    file,
    arch: 'unknown (event log)',
    cpus,
    seed: result.seed ?? 0,
    passed: result.passed ?? true,
    events,
    steps: [],
    truncated: false,
    threads: result.threads ?? [],
    failures: [],
  };
}

async function load(file: string, flags: InspectFlags): Promise<Timeline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw fileReadError(file, error);
  }
  const log = parseEventLog(text, file);
  if (log) return log;
  try {
    const loaded = parseScenario(text, file);
    let costs: Record<string, number> | undefined;
    if (flags.costs) {
      let costText: string;
      try {
        costText = await readFile(flags.costs, 'utf8');
      } catch (error) {
        throw fileReadError(flags.costs, error);
      }
      costs = parseCosts(costText, flags.costs);
    }
    return recordScenario(loaded, { costs }).timeline;
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(error.issues.map(formatIssue).join('\n'));
    throw error;
  }
}

/** Open the URL in the desktop's browser; nothing happens (and nothing fails) where there is none. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener: the URL is printed anyway.
  }
}

/** Stops of the inspectors running in this process (one per `inspect` in progress). */
const running = new Set<() => void>();

/** Stop every running `pkeysim inspect` as Ctrl-C would (for programs that embed the CLI, and tests). */
export function stopInspectors(): void {
  for (const stop of [...running]) stop();
}

/** Resolves on Ctrl-C, SIGTERM or {@link stopInspectors}: the server runs until the user stops it. */
function untilStopped(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      running.delete(stop);
      done();
    };
    running.add(stop);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function inspect(file: string, flags: InspectFlags, context: CommandContext): Promise<ExitCode> {
  const timeline = await load(file, flags);
  let server;
  try {
    server = await serveInspector(inspectorPayload(timeline), { port: flags.port });
  } catch (error) {
    if (error instanceof InspectorPortError) throw new UsageError(error.message);
    throw error;
  }
  context.io.stdout.write(
    `pkeysim inspect: ${timeline.name}, ${timeline.events.length} steps\n${server.url}\n(Ctrl-C stops the server)\n`,
  );
  if (flags.open) openBrowser(server.url);
  await untilStopped();
  await server.close();
  return ExitCode.Success;
}

/** `pkeysim inspect FILE`: the web inspector for one run. */
export const inspectCommand: CliCommand = {
  register(program, context) {
    program
      .command('inspect')
      .description('serve a local web page that steps through a scenario run: rights per CPU, keys, TLBs, timeline')
      .argument('<file>', 'a scenario file, or an event log saved with "pkeysim run FILE --json"')
      .addOption(new Option('--port <n>', 'port on 127.0.0.1; 0 picks a free one').argParser(parsePort).default(8123))
      .option('--no-open', 'do not open a browser; just print the URL')
      .option('--costs <file>', 'cycles per event (YAML/JSON mapping), overriding the defaults and the scenario')
      .addHelpText('after', HELP)
      .action(context.action(async (file: string, flags: InspectFlags) => inspect(file, flags, context)));
  },
};
