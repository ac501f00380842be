import { Command, Help } from 'commander';
import pc from 'picocolors';
import { colorEnabled } from './color';
import { UsageError } from './errors';
import { ExitCode } from './exit-codes';
import type { CommandContext } from './command';
import type { OutputStream } from './io';
import { COMMAND_TABLE, type CommandEntry } from './commands';
import { cliVersion } from './version';

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  a check or assertion failed, or the report could not be written (disk full, I/O error)
  2  bad input: usage error, unreadable file, malformed lines
  3  internal error (a bug in pkeysim)
A closed pipe (pkeysim ... | head) is not an error. Output formats, -o FILE: docs/output.md`;

/** Help styling; commander strips it again when the stream has no colour. */
const helpStyle = pc.createColors(true);

/**
 * The commander program with every command. Only the command `argv` runs (or asks help for) is
 * loaded and registered in full; the others are listed by name and summary, so start-up costs
 * only what the run uses. `onCommandError` learns which command a usage error belongs to, so the
 * one-line message can point at that command's --help.
 */
export async function createProgram(
  context: CommandContext,
  onCommandError: (command: Command) => void,
  argv: readonly string[],
  commands: readonly CommandEntry[] = COMMAND_TABLE,
): Promise<Command> {
  const program = new Command('pkeysim')
    .description('Executable memory protection keys: the hardware, the kernel machinery and the features built on it.')
    .version(cliVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    // Read before parsing (plugins must register before --arch is checked); declared for --help.
    .option(
      '--plugin <package-or-path>',
      'load a third-party protection plugin first (repeatable; also PKEYSIM_PLUGINS=a,b and pkeysim.config.* "plugins")',
    )
    .addHelpText('after', EXIT_CODES_HELP);
  const wanted = commandNamed(argv);
  for (const entry of commands) {
    if (entry.name === wanted) {
      (await entry.load()).register(program, context);
      program.commands.find((c) => c.name() === entry.name)?.description(entry.summary);
    } else {
      // Listed in --help; never run (had it been named, it would have been loaded above).
      program.command(entry.name).description(entry.summary).allowUnknownOption().allowExcessArguments();
    }
  }
  addHelpCommand(program, context);
  configureTree(program, context, onCommandError);
  // A command that runs on `--arch NAME` finds its bundled plugin loaded (arch.ts loads on demand).
  program.hook('preAction', async (_program, actionCommand) => {
    const arch: unknown = actionCommand.opts().arch;
    if (typeof arch === 'string') await (await import('./arch')).loadArch(arch);
  });
  return program;
}

/**
 * `pkeysim help [command]`. Replaces commander's own, which answers an unknown name with the whole
 * help text on stderr instead of one line.
 */
function addHelpCommand(program: Command, context: CommandContext): void {
  program.helpCommand(false);
  program
    .command('help')
    .description('show help for a command')
    .argument('[command]', 'the command to describe')
    .action(
      context.action((name: string | undefined) => {
        if (name === undefined) {
          program.outputHelp();
          return ExitCode.Success;
        }
        const command = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!command) throw new UsageError(`unknown command '${name}' (try 'pkeysim --help')`);
        command.outputHelp();
        return ExitCode.Success;
      }),
    );
}

/** Applied to every command after registration, so a command module cannot forget any of it. */
function configureTree(command: Command, context: CommandContext, onCommandError: (command: Command) => void): void {
  const { io } = context;
  command
    // Commander must throw instead of calling process.exit: main turns errors into exit codes.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // main prints the one-line message; commander only tells us whose error it was.
      outputError: () => onCommandError(command),
      getOutHelpWidth: () => helpWidth(io.stdout),
      getErrHelpWidth: () => helpWidth(io.stderr),
      getOutHasColors: () => colorEnabled(io.stdout, io.env),
      getErrHasColors: () => colorEnabled(io.stderr, io.env),
    })
    .configureHelp({
      styleTitle: (text) => helpStyle.bold(text),
      styleCommandText: (text) => helpStyle.cyan(text),
      styleOptionText: (text) => helpStyle.green(text),
      // Commands that were not loaded are listed by the term the table gives them.
      subcommandTerm: (sub) =>
        (!sub.parent?.parent && COMMAND_TABLE.find((e) => e.name === sub.name())?.term) || defaultTerm(sub),
    });
  for (const sub of command.commands) configureTree(sub, context, onCommandError);
}

const defaultTerm = (command: Command): string => new Help().subcommandTerm(command);

/** The command `argv` names (`pkeysim help NAME` names NAME): its first argument that is not an option. */
function commandNamed(argv: readonly string[]): string | undefined {
  const operands = argv.filter((arg) => !arg.startsWith('-'));
  return operands[0] === 'help' ? operands[1] : operands[0];
}

/** Wrap help to the terminal; 80 columns when writing to a file or pipe (commander's default). */
function helpWidth(stream: OutputStream): number {
  return (stream.isTTY && stream.columns) || 80;
}

/** "pkeysim check", for messages. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
