import type { CliCommand } from '../command';
import { campaignCommand } from './campaign';
import { checkCommand } from './check';
import { demoCommand } from './demo';
import { keysCommand } from './keys';
import { replayCommand } from './replay';
import { runCommand } from './run';
import { selftestCommand } from './selftest';
import { sweepCommand } from './sweep';
import { workerCommand } from './worker';

/**
 * Every `pkeysim` sub-command, in the order `pkeysim --help` lists them.
 *
 * To add a command:
 *   1. create `src/commands/<name>.ts` exporting a `CliCommand` whose `register(program, context)`
 *      calls `program.command('<name>')`, adds its options and description, and wraps its action
 *      in `context.action(async (...args) => ExitCode.Success)` (see `check.ts`);
 *   2. add it to the array below.
 * main() does the rest for every command: exit-code handling, one-line errors (throw UsageError
 * for a user's mistake), --help, NO_COLOR. Write output through `context.io`, never `process`.
 */
export const COMMANDS: readonly CliCommand[] = [
  checkCommand,
  selftestCommand,
  keysCommand,
  replayCommand,
  campaignCommand,
  runCommand,
  demoCommand,
  sweepCommand,
  workerCommand,
];
