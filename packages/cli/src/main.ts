import { colorsFor } from './color';
import { ExitCode, worstExitCode } from './exit-codes';
import { type Io, processIo } from './io';
import { StdoutWatch } from './stdout-watch';
import { cliVersion } from './version';

/**
 * Run the CLI on `argv` (the arguments after the program name, e.g. `['check', '--expect']`) and
 * return the exit code. It never calls process.exit and never lets an error escape: a user's
 * mistake is one line, `pkeysim: <message>`, on stderr; see {@link ExitCode} for the codes.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  // A failed write to stdout is a failure of the run, whoever wrote (docs/output.md).
  const stdout = new StdoutWatch(io.stdout);
  const code = await runMain(argv, io, stdout);
  const failure = await stdout.settle();
  if (!failure) return code;
  const c = colorsFor(io.stderr, io.env ?? process.env);
  io.stderr.write(`${c.red(c.bold('pkeysim:'))} ${failure.message}\n`);
  return worstExitCode(code, failure.exitCode);
}

/** `pkeysim --version` (or -V) alone: answered from package.json, with no command parser and no plugin search. */
const VERSION_ONLY = new Set(['--version', '-V']);

async function runMain(argv: readonly string[], io: Io, stdout: StdoutWatch): Promise<ExitCode> {
  if (argv.length === 1 && VERSION_ONLY.has(argv[0])) {
    io.stdout.write(`${cliVersion()}\n`);
    return ExitCode.Success;
  }
  // Commander, the plugin loader and the command table load only for a real run.
  const { runProgram } = await import('./run-program');
  return runProgram(argv, io, stdout);
}
