import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { CommandContext } from './command';
import { OutputError } from './errors';
import { ExitCode } from './exit-codes';
import { LineWriter } from './output';

/** `-o, --output FILE`: every command that prints a report takes it (docs/output.md). */
export function outputOption(): Option {
  return new Option('-o, --output <file>', 'write the report to FILE instead of stdout (atomically; "-" is stdout)');
}

/** Where a command's report goes: a writer for its lines, and the end of the run. */
export interface ReportTarget {
  readonly out: LineWriter;
  /** Flush; a file is renamed into place when `keep` (the run completed), removed otherwise. */
  close(keep: boolean): Promise<void>;
}

/**
 * Open a command's report: stdout, or the file `given` (relative to the run's working directory)
 * written atomically. The lines go to `<path>.tmp-<pid>` beside the file, which is flushed to disk and renamed over `path` only when the run completes, so
 * a reader never sees half a report and a failed run leaves `path` as it was.
 */
export async function openReport(context: CommandContext, given: string | undefined): Promise<ReportTarget> {
  if (given === undefined || given === '-') {
    const out = new LineWriter(context.io.stdout);
    return { out, close: () => out.finish() };
  }
  // Relative to the run's working directory, as plugin paths and the config file are.
  const path = resolve(context.io.cwd ?? process.cwd(), given);
  const temporary = `${path}.tmp-${process.pid}`;
  // flush: fsync before close, so the renamed file has its contents even after a crash.
  const stream = createWriteStream(temporary, { flags: 'w', flush: true, highWaterMark: 1 << 16 });
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new OutputError(given, error);
  }
  // Write errors are read from the writer and from end(); a destroyed stream re-emits its error a
  // tick later, when nobody may be listening, which must not crash the process.
  stream.on('error', () => undefined);
  const out = new LineWriter(stream, given);
  let closed = false;
  return {
    out,
    async close(keep) {
      if (closed) return;
      closed = true;
      try {
        await out.finish();
        const ended = once(stream, 'close');
        stream.end();
        await ended;
      } catch (error) {
        if (!stream.closed) {
          const gone = once(stream, 'close').catch(() => undefined);
          stream.destroy();
          await gone;
        }
        await rm(temporary, { force: true }).catch(() => undefined);
        throw error instanceof OutputError ? error : new OutputError(given, error);
      }
      if (!keep) return void (await rm(temporary, { force: true }));
      try {
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true }).catch(() => undefined);
        throw new OutputError(given, error);
      }
    },
  };
}

/**
 * Run `produce` with the command's report open and close it by the exit code: a run that completed
 * (0, or 1 for a failed check: the report says what failed) keeps its file; bad input, a bug or a
 * write error leaves none. Write errors become {@link OutputError}.
 */
export async function withReport(
  context: CommandContext,
  path: string | undefined,
  produce: (out: LineWriter) => Promise<ExitCode>,
): Promise<ExitCode> {
  const target = await openReport(context, path);
  let code: ExitCode;
  try {
    code = await produce(target.out);
  } catch (error) {
    await target.close(false).catch(() => undefined);
    throw error;
  }
  const completed = code === ExitCode.Success || code === ExitCode.Failed;
  // After bad input or a bug the report is dropped anyway, and its code wins over a write error
  // (main still names a failed stdout in one more line).
  await target.close(completed).catch((error: unknown) => {
    if (completed || !(error instanceof OutputError)) throw error;
  });
  return code;
}
