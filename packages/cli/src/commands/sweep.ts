import { existsSync } from 'node:fs';
import {
  buildReport,
  checkAxes,
  defaultWorkers,
  expandSweep,
  formatReport,
  loadSweep,
  MAX_WORKERS,
  mergeRecords,
  METRICS,
  type Metric,
  parseShard,
  pointKey,
  QueueUnreachable,
  readResults,
  recordsCsv,
  ResultsError,
  ResultsWriter,
  resultsText,
  runOnQueue,
  runPoints,
  type Shard,
  shardPoints,
  SweepError,
  type SweepRecord,
  writeFileAtomic,
} from '@pkeysim/sweep';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { CliCommand, CommandContext } from '../command';
import { fileReadError, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { LineWriter } from '../output';
import { SweepProgress } from '../sweep-progress';

/** `--workers N`: 1 to MAX_WORKERS worker threads. */
export function parseWorkers(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_WORKERS)
    throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_WORKERS}`);
  return n;
}

function parseShardOption(value: string): Shard {
  try {
    return parseShard(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function parseAxes(value: string): string[] {
  const axes = value.split(',').map((a) => a.trim());
  const problem = checkAxes(axes);
  if (problem) throw new InvalidArgumentError(problem);
  return axes;
}

function parseMetrics(value: string): Metric[] {
  const metrics = value.split(',').map((m) => m.trim());
  for (const m of metrics)
    if (!(METRICS as readonly string[]).includes(m))
      throw new InvalidArgumentError(`unknown metric '${m}' (metrics: ${METRICS.join(', ')})`);
  return metrics as Metric[];
}

/** Library errors that are the user's input, as one-line usage errors (exit 2). */
function asUsageError(error: unknown): never {
  if (error instanceof SweepError)
    throw new UsageError(
      error.issues
        .map((i) => `${i.file}${i.line ? `:${i.line}` : ''}: ${i.path ? `${i.path}: ` : ''}${i.message}`)
        .join('; '),
    );
  if (error instanceof ResultsError || error instanceof RangeError || error instanceof QueueUnreachable)
    throw new UsageError(error.message);
  throw error;
}

/** Read results files for merge and report, as usage errors when missing or malformed. */
function readAll(files: readonly string[]): { file: string; records: SweepRecord[] }[] {
  return files.map((file) => {
    if (!existsSync(file)) throw fileReadError(file, Object.assign(new Error(), { code: 'ENOENT' }));
    try {
      return { file, records: readResults(file).records };
    } catch (error) {
      if (error instanceof ResultsError) throw new UsageError(error.message);
      throw fileReadError(file, error);
    }
  });
}

/** Ctrl-C (and SIGTERM, as a batch scheduler sends) abort the returned signal while `body` runs. */
async function withInterrupt<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

interface RunFlags {
  workers?: number;
  output?: string;
  csv?: string;
  shard?: Shard;
  queue?: string;
  queueName: string;
  progress?: boolean;
  report: boolean;
  by?: string[];
  json?: boolean;
}

const RUN_HELP = `
Runs every point of a sweep file (YAML or JSON: campaigns x schemes x protection x modes x CPUs x
cost models x cost parameters x seeds) through the consumers' campaign harness, on a pool of worker
threads or on a Redis job queue, then prints a report: per configuration, each metric's mean and
95% confidence interval (Student t over the seeds). See docs/sweeps.md.

Results stream to -o FILE as JSON Lines, one line per point, fsynced as each point finishes; run
the same command again to finish an interrupted sweep (points already in FILE are skipped).
Ctrl-C stops cleanly: finished points stay in FILE, the command exits with 1.

Examples:
  pkeysim sweep examples/sweeps/schemes.yaml --workers 2 -o r.jsonl
  pkeysim sweep study.yaml --shard 3/8 -o shard-3.jsonl        one of 8 batch jobs
  pkeysim sweep study.yaml --queue redis://10.0.0.5:6379 -o r.jsonl   with pkeysim worker elsewhere`;

async function runSweep(context: CommandContext, specFile: string, flags: RunFlags): Promise<ExitCode> {
  let points;
  let skipped: readonly string[];
  let metrics: readonly Metric[] | undefined;
  try {
    const sweep = loadSweep(specFile);
    metrics = sweep.spec.metrics;
    ({ points, skipped } = expandSweep(sweep));
  } catch (error) {
    asUsageError(error);
  }
  points = shardPoints(points, flags.shard);
  let writer: ResultsWriter | undefined;
  if (flags.output) {
    try {
      writer = new ResultsWriter(flags.output);
    } catch (error) {
      if (error instanceof ResultsError) throw new UsageError(`${error.message} (not a results file? use another -o)`);
      throw new UsageError(`cannot write ${flags.output}: ${(error as Error).message}`);
    }
  }
  const done = new Map<string, SweepRecord>();
  const wanted = new Set(points.map(pointKey));
  for (const [key, record] of writer?.done ?? []) if (wanted.has(key)) done.set(key, record);
  for (const s of skipped) context.report(`skipped: ${s}`);
  const progress = new SweepProgress(
    context.io.stderr,
    points.length,
    flags.progress === true || (flags.progress === undefined && context.io.stderr.isTTY === true),
  );
  progress.update(done.size);
  const onRecord = (record: SweepRecord) => {
    writer?.append(record);
    done.set(record.key, record);
    progress.update(done.size);
  };
  let interrupted = false;
  try {
    await withInterrupt(async (signal) => {
      const outcome = flags.queue
        ? await runOnQueue(points, {
            url: flags.queue,
            queueName: flags.queueName,
            done: new Set(done.keys()),
            onRecord,
            signal,
          })
        : await runPoints(points, {
            workers: flags.workers ?? defaultWorkers(),
            done: new Set(done.keys()),
            onRecord,
            signal,
          });
      interrupted = outcome.interrupted;
    });
  } catch (error) {
    asUsageError(error);
  } finally {
    progress.done();
    writer?.close();
  }
  const records = points.map((p) => done.get(pointKey(p))).filter((r): r is SweepRecord => r !== undefined);
  if (flags.csv) writeFileAtomic(flags.csv, recordsCsv(records));
  if (interrupted) {
    context.report(
      `interrupted: ${records.length} of ${points.length} points done${flags.output ? `, kept in ${flags.output}; run the same command to finish` : ''}`,
    );
  }
  if (flags.report) await printReport(context, records, flags.by, metrics, flags.json);
  return interrupted ? ExitCode.Failed : ExitCode.Success;
}

async function printReport(
  context: CommandContext,
  records: readonly SweepRecord[],
  by: readonly string[] | undefined,
  metrics: readonly Metric[] | undefined,
  json: boolean | undefined,
): Promise<void> {
  const report = buildReport(records, { by, metrics });
  const out = new LineWriter(context.io.stdout);
  if (json) await out.line(JSON.stringify(report));
  else for (const line of formatReport(report)) await out.line(line);
  out.release();
}

function registerRun(sweep: Command, context: CommandContext): void {
  sweep
    .command('run', { isDefault: true })
    .description('run every point of a sweep file and report means with 95% confidence intervals')
    .argument('<spec>', 'the sweep file (YAML or JSON; schema: packages/sweep/schema/sweep.schema.json)')
    .addOption(new Option('--workers <n>', 'worker threads (default: one per core)').argParser(parseWorkers))
    .option('-o, --output <file>', 'append results to this JSON Lines file; points already in it are skipped')
    .option('--csv <file>', "also write this sweep's results as CSV")
    .addOption(
      new Option('--shard <i/n>', 'run only shard I of N (1-based), e.g. a Slurm array task').argParser(
        parseShardOption,
      ),
    )
    .option(
      '--queue <url>',
      'enqueue the points on Redis (redis://HOST:PORT) for `pkeysim worker`s instead of running them here',
    )
    .option('--queue-name <name>', 'the BullMQ queue name', 'pkeysim-sweep')
    .option('--progress', 'show progress with ETA on stderr even when it is not a terminal')
    .option('--no-progress', 'no progress, even on a terminal')
    .option('--no-report', 'do not print the report')
    .addOption(
      new Option('--by <axes>', 'report groups: comma-separated axes (default: the axes that vary)').argParser(
        parseAxes,
      ),
    )
    .option('--json', 'print the report as one JSON object')
    .addHelpText('after', RUN_HELP)
    .action(context.action((spec: string, flags: RunFlags) => runSweep(context, spec, flags)));
}

function registerMerge(sweep: Command, context: CommandContext): void {
  sweep
    .command('merge')
    .description('merge results files (shards, re-runs) into one, each point once, sorted by key')
    .argument('<results...>', 'JSON Lines results files')
    .requiredOption('-o, --output <file>', 'the merged file (written atomically)')
    .option('--csv <file>', 'also write the merged results as CSV')
    .action(
      context.action(async (files: string[], flags: { output: string; csv?: string }) => {
        let merged: SweepRecord[];
        try {
          merged = mergeRecords(readAll(files));
        } catch (error) {
          asUsageError(error);
        }
        writeFileAtomic(flags.output, resultsText(merged));
        if (flags.csv) writeFileAtomic(flags.csv, recordsCsv(merged));
        context.report(`merged ${merged.length} points from ${files.length} files into ${flags.output}`);
        return ExitCode.Success;
      }),
    );
}

function registerReport(sweep: Command, context: CommandContext): void {
  sweep
    .command('report')
    .description('means and 95% confidence intervals per scheme and axis, and sensitivity to each cost parameter')
    .argument('<results...>', 'JSON Lines results files (merged if several)')
    .addOption(new Option('--by <axes>', 'group by these axes (default: the axes that vary)').argParser(parseAxes))
    .addOption(
      new Option('--metrics <list>', `metrics to show (default all: ${METRICS.join(', ')})`).argParser(parseMetrics),
    )
    .option('--json', 'print the report as one JSON object')
    .action(
      context.action(async (files: string[], flags: { by?: string[]; metrics?: Metric[]; json?: boolean }) => {
        let records: SweepRecord[];
        try {
          records = mergeRecords(readAll(files));
        } catch (error) {
          asUsageError(error);
        }
        if (records.length === 0) throw new UsageError(`no results in ${files.join(', ')}`);
        await printReport(context, records, flags.by, flags.metrics, flags.json);
        return ExitCode.Success;
      }),
    );
}

/** `pkeysim sweep SPEC` (run), `pkeysim sweep merge`, `pkeysim sweep report`. */
export const sweepCommand: CliCommand = {
  register(program, context) {
    const sweep = program
      .command('sweep')
      .description('run a parameter sweep of campaigns on every core or a job queue; merge and report results');
    registerRun(sweep, context);
    registerMerge(sweep, context);
    registerReport(sweep, context);
  },
};
