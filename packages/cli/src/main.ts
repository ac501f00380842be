import { type Command, CommanderError } from 'commander';
import { escapeControl } from '@pkeysim/core';
import { colorsFor } from './color';
import type { CommandContext } from './command';
import { UsageError } from './errors';
import { ExitCode } from './exit-codes';
import { type Io, processIo } from './io';
import { commandPath, createProgram } from './program';

/**
 * Run the CLI on `argv` (the arguments after the program name, e.g. `['check', '--expect']`) and
 * return the exit code. It never calls process.exit and never lets an error escape: a user's
 * mistake is one line, `pkeysim: <message>`, on stderr; see {@link ExitCode} for the codes.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const env = io.env ?? process.env;
  const withEnv: Io = { ...io, env };
  const colors = { stdout: colorsFor(io.stdout, env), stderr: colorsFor(io.stderr, env) };
  const report = (message: string) => {
    // Messages can quote the user's input: control bytes are shown, never sent to the terminal.
    io.stderr.write(`${colors.stderr.red(colors.stderr.bold('pkeysim:'))} ${escapeControl(message)}\n`);
  };

  let exitCode: ExitCode = ExitCode.Success;
  const context: CommandContext = {
    io: withEnv,
    colors,
    report,
    action:
      (handler) =>
      async (...args) => {
        exitCode = await handler(...args);
      },
  };
  let failingCommand: Command | undefined;
  const program = createProgram(context, (command) => (failingCommand = command));

  if (argv.length === 0) {
    report("missing command (try 'pkeysim --help')");
    return ExitCode.BadInput;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end parsing with exit code 0.
      if (error.exitCode === 0) return ExitCode.Success;
      // Help already written to stderr (a command group run without a sub-command).
      if (error.code === 'commander.help') return ExitCode.BadInput;
      const where = commandPath(failingCommand ?? program);
      report(`${oneLine(error.message.replace(/^error: /, ''))} (try '${where} --help')`);
      return ExitCode.BadInput;
    }
    if (error instanceof UsageError) {
      report(error.message);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    report(`internal error: ${oneLine(message)} (a bug in pkeysim; set PKEYSIM_DEBUG=1 for the stack trace)`);
    if (env.PKEYSIM_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return ExitCode.Internal;
  }
}

/** Commander puts suggestions on a second line ("(Did you mean check?)"); we promise one line. */
function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ');
}
