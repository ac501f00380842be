import { type Command, CommanderError } from 'commander';
import { escapeControl } from '@pkeysim/core/echo';
import { colorsFor } from './color';
import type { CommandContext } from './command';
import { OutputError, UsageError } from './errors';
import { ExitCode } from './exit-codes';
import type { Io } from './io';
import { loadPluginsFor } from './plugins';
import type { PluginSources } from './plugins/load';
import { commandPath, createProgram } from './program';
import type { StdoutWatch } from './stdout-watch';

/**
 * Everything a run does but `pkeysim --version`: third-party plugins, the commander program, the
 * command's action, and the mapping of every error to one line and an exit code (main.ts).
 */
export async function runProgram(argv: readonly string[], io: Io, stdout: StdoutWatch): Promise<ExitCode> {
  const env = io.env ?? process.env;
  // Not a spread when the environment is given: a spread would read (open) the lazy stdin.
  const withEnv: Io = io.env ? io : { ...io, env };
  const colors = { stdout: colorsFor(io.stdout, env), stderr: colorsFor(io.stderr, env) };
  const report = (message: string) => {
    // Messages can quote the user's input: control bytes are shown, never sent to the terminal.
    io.stderr.write(`${colors.stderr.red(colors.stderr.bold('pkeysim:'))} ${escapeControl(message)}\n`);
  };

  if (argv.length === 0) {
    report("missing command (try 'pkeysim --help')");
    return ExitCode.BadInput;
  }

  let exitCode: ExitCode = ExitCode.Success;
  let failingCommand: Command | undefined;
  let runningCommand: Command | undefined;
  let loadedPlugins: PluginSources = new Map();
  let program: Command | undefined;
  try {
    // Third-party plugins load first: `--arch NAME` is checked against the registry while parsing.
    const { rest, plugins } = await loadPluginsFor(argv, env, io.cwd ?? process.cwd());
    loadedPlugins = plugins;
    const context: CommandContext = {
      io: withEnv,
      colors,
      report,
      plugins,
      action:
        (handler) =>
        async (...args) => {
          // Commander passes the command itself last: a failure can then name its --arch plugin.
          runningCommand = args[args.length - 1] as Command;
          exitCode = await handler(...args);
        },
    };
    program = await createProgram(context, (command) => (failingCommand = command), rest);
    await program.parseAsync(rest, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end parsing with exit code 0.
      if (error.exitCode === 0) return ExitCode.Success;
      // Help already written to stderr (a command group run without a sub-command).
      if (error.code === 'commander.help') return ExitCode.BadInput;
      const where = failingCommand ? commandPath(failingCommand) : program ? commandPath(program) : 'pkeysim';
      report(`${oneLine(error.message.replace(/^error: /, ''))} (try '${where} --help')`);
      return ExitCode.BadInput;
    }
    const commandLine = runningCommand ? [commandPath(runningCommand), ...runningCommand.args].join(' ') : 'pkeysim';
    // Loaded only on failure: it needs core and the kernel, which --version must not pay for.
    const { pluginShortfall } = await import('./plugins/shortfall');
    const shortfall = pluginShortfall(error, runningCommand, commandLine, loadedPlugins);
    if (shortfall) {
      report(shortfall.message);
      return shortfall.exitCode;
    }
    if (error instanceof UsageError) {
      report(error.message);
      return error.exitCode;
    }
    if (error instanceof OutputError) {
      if (error.destination === 'stdout') stdout.acknowledge();
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
