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
  for await (const line of numberedLines(source)) {
    if (line.text.trim() === '') continue;
    const where = `${source.label}:${line.number}`;
    const parsed = engine.parse(line.text);
    if (!parsed.ok) {
      report(`${where}: ${parsed.issue.field}: ${parsed.issue.message}`);
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
  if (options.expect) await out.line(formatSummary(tally, options.json));
  return exitCode;
}
