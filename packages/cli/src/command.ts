import type { Command } from 'commander';
import type { Colors } from './color';
import type { ExitCode } from './exit-codes';
import type { Io } from './io';
import type { PluginSources } from './plugins/load';

/** What a command gets from the CLI kernel when it registers. */
export interface CommandContext {
  readonly io: Io;
  /** Colours for each stream: plain text unless that stream is a TTY and NO_COLOR is unset. */
  readonly colors: { readonly stdout: Colors; readonly stderr: Colors };
  /** Print one diagnostic line, `pkeysim: <message>`, to stderr (for problems the run continues past). */
  report(message: string): void;
  /** Plugins loaded from --plugin, PKEYSIM_PLUGINS or the config file: name -> package or file. */
  readonly plugins: PluginSources;
  /**
   * Wrap an action handler so that the exit code it returns becomes `main`'s return value.
   * Throw {@link UsageError} for a user mistake (one line on stderr, exit 2).
   */
  action<A extends unknown[]>(handler: (...args: A) => Promise<ExitCode> | ExitCode): (...args: A) => Promise<void>;
}

/**
 * One `pkeysim` sub-command. Its module exports one of these and `commands/index.ts` lists it.
 * `register` adds the sub-command with `program.command(name)`, its options and help text, and an
 * action wrapped in `context.action`.
 */
export interface CliCommand {
  /** Add this sub-command to `program`. */
  register(program: Command, context: CommandContext): void;
}
