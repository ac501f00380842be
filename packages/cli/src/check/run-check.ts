import { echoText } from '@pkeysim/core';
import type { CommandContext } from '../command';
import { ExitCode, worstExitCode } from '../exit-codes';
import { SCHEMA } from '../json/names';
import type { LineWriter } from '../output';
import { type LineSource, numberedLines } from './lines';
import type { VectorEngine } from './vector-engine';

export interface CheckOptions {
  /** Compare each output with the vector's recorded result and print a summary. */
  readonly expect: boolean;
  /** JSON Lines with the schema on every line: `{"schema","type":"vector",...}` and a `summary` line. */
  readonly json: boolean;
}

export interface CheckTally {
  passed: number;
  failed: number;
}

/** The last stdout line of `check --expect`: exactly `N passed, M failed`, or its JSON line. */
export function formatSummary(tally: CheckTally, json: boolean): string {
  return json
    ? JSON.stringify({ schema: SCHEMA.check, type: 'summary', passed: tally.passed, failed: tally.failed })
    : `${tally.passed} passed, ${tally.failed} failed`;
}

/**
 * Run every vector of `source` in input order, writing one JSON line per vector to stdout.
 * A malformed line is reported on stderr (`<file>:<line>: <field>: <message>`) and skipped; the
 * run continues and ends with exit code 2. With `expect`, mismatches are reported on stderr and
 * give exit code 1 (2 wins when both happen).
 */
export async function runCheck<V extends { readonly id: string }>(
  source: LineSource,
  options: CheckOptions,
  engine: VectorEngine<V>,
  context: CommandContext,
  out: LineWriter,
): Promise<ExitCode> {
  const { io, report, colors } = context;
  const tally: CheckTally = { passed: 0, failed: 0 };
  let exitCode: ExitCode = ExitCode.Success;
  const malformed = new MalformedLines(report, source.label);
  try {
    for await (const line of numberedLines(source)) {
      if (line.text.trim() === '') continue;
      const where = `${source.label}:${line.number}`;
      const parsed = engine.parse(line.text);
      if (!parsed.ok) {
        malformed.add(where, `${echoText(parsed.issue.field, 60)}: ${echoText(parsed.issue.message, 200)}`);
        exitCode = worstExitCode(exitCode, ExitCode.BadInput);
        continue;
      }
      const { vector } = parsed;
      let output: Record<string, unknown>;
      try {
        output = engine.run(vector);
      } catch (error) {
        // The parser accepted the vector, so the model throwing is a bug in pkeysim, not bad input.
        report(`${where}: ${vector.id}: internal error: ${error instanceof Error ? error.message : String(error)}`);
        exitCode = worstExitCode(exitCode, ExitCode.Internal);
        if (options.expect) tally.failed++;
        continue;
      }
      await out.line(JSON.stringify(options.json ? { schema: SCHEMA.check, type: 'vector', ...output } : output));
      if (out.closed) break;
      if (!options.expect) continue;
      const mismatches = engine.compare(vector, output);
      if (mismatches.length === 0) {
        tally.passed++;
        continue;
      }
      tally.failed++;
      exitCode = worstExitCode(exitCode, ExitCode.Failed);
      for (const mismatch of mismatches) {
        io.stderr.write(`${colors.stderr.red('FAIL')} ${where}: ${vector.id}: ${mismatch}\n`);
      }
    }
  } finally {
    malformed.summarise();
  }
  if (options.expect) await out.line(formatSummary(tally, options.json));
  return exitCode;
}

/** Each distinct problem is reported this many times; later lines with it are only counted. */
export const REPEATED_ERROR_CAP = 3;
/** At most this many malformed lines are reported one by one. */
export const MALFORMED_LINE_CAP = 20;

/**
 * The malformed-line reports of one check run, kept short for a file of junk: the same problem
 * (the message without its line number; JSON syntax errors count as one problem) at most
 * {@link REPEATED_ERROR_CAP} times, at most {@link MALFORMED_LINE_CAP} lines in all, then one
 * closing line counting the rest.
 */
class MalformedLines {
  private readonly seen = new Map<string, number>();
  private shown = 0;
  private hidden = 0;
  private firstHidden = '';

  constructor(
    private readonly report: (message: string) => void,
    private readonly label: string,
  ) {}

  add(where: string, message: string): void {
    const kind = message.startsWith('(json): not valid JSON') ? '(json)' : message;
    const count = (this.seen.get(kind) ?? 0) + 1;
    this.seen.set(kind, count);
    if (count > REPEATED_ERROR_CAP || this.shown >= MALFORMED_LINE_CAP) {
      if (this.hidden++ === 0) this.firstHidden = where;
      return;
    }
    this.shown++;
    this.report(`${where}: ${message}`);
  }

  summarise(): void {
    if (this.hidden === 0) return;
    this.report(
      `${this.label}: ${this.hidden} more malformed line${this.hidden > 1 ? 's' : ''} not shown (the first at ${this.firstHidden}; errors like those above)`,
    );
  }
}
