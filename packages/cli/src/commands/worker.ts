import { DEFAULT_QUEUE_NAME, defaultWorkers, QueueUnreachable, runQueueWorker } from '@pkeysim/sweep';
import { InvalidArgumentError, Option } from 'commander';
import type { CliCommand } from '../command';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { parseWorkers } from './sweep';

function parseLockMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 500 || n > 3_600_000)
    throw new InvalidArgumentError('must be a whole number of milliseconds from 500 to 3600000');
  return n;
}

const HELP = `
Takes sweep points from a Redis queue filled by \`pkeysim sweep SPEC --queue URL\` and runs them,
--workers at a time, until stopped (Ctrl-C or SIGTERM: the points in flight finish first). Start
one per machine, any number of machines. A worker that dies mid-point loses nothing: after
--lock-ms its point goes back to the queue and another worker runs it. See docs/sweeps.md.

Example:
  pkeysim worker --queue redis://10.0.0.5:6379 --workers 8`;

/** `pkeysim worker --queue URL`: process queued sweep points. */
export const workerCommand: CliCommand = {
  register(program, context) {
    program
      .command('worker')
      .description('process sweep points from a Redis queue (see pkeysim sweep --queue)')
      .requiredOption('--queue <url>', 'the Redis server: redis://HOST:PORT')
      .option('--queue-name <name>', 'the BullMQ queue name', DEFAULT_QUEUE_NAME)
      .addOption(
        new Option('--workers <n>', 'points at once, on worker threads (default: one per core)').argParser(
          parseWorkers,
        ),
      )
      .option('--name <name>', "this worker's name on its jobs (default host:pid)")
      .addOption(
        new Option('--lock-ms <ms>', "how soon a dead worker's point is handed to another")
          .argParser(parseLockMs)
          .default(30_000),
      )
      .addHelpText('after', HELP)
      .action(
        context.action(
          async (flags: { queue: string; queueName: string; workers?: number; name?: string; lockMs: number }) => {
            const controller = new AbortController();
            const stop = () => controller.abort();
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
            try {
              const { processed } = await runQueueWorker({
                url: flags.queue,
                queueName: flags.queueName,
                workers: flags.workers ?? defaultWorkers(),
                name: flags.name,
                lockDurationMs: flags.lockMs,
                onStart: (key, p) => context.report(`started ${key}: ${p.campaign} under ${p.scheme}, seed ${p.seed}`),
                onJob: (record) => context.report(`finished ${record.key}`),
                signal: controller.signal,
              });
              context.report(`worker stopped after ${processed} points`);
            } catch (error) {
              if (error instanceof QueueUnreachable || error instanceof RangeError) throw new UsageError(error.message);
              throw error;
            } finally {
              process.off('SIGINT', stop);
              process.off('SIGTERM', stop);
            }
            return ExitCode.Success;
          },
        ),
      );
  },
};
