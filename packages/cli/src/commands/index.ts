import type { CliCommand } from '../command';

/** One `pkeysim` sub-command as the program knows it before loading it. */
export interface CommandEntry {
  readonly name: string;
  /** How `pkeysim --help` shows it, e.g. `run [options] <file>` (a test keeps it equal to the real command's). */
  readonly term: string;
  /** The one-line description `pkeysim --help` lists. */
  readonly summary: string;
  /** The command's module, imported only when this command runs (or its help is asked for). */
  load(): Promise<CliCommand>;
}

/**
 * Every `pkeysim` sub-command, in the order `pkeysim --help` lists them. Commands load lazily, so
 * `pkeysim --version` or `pkeysim check` pays only for what it uses (the simulation packages, zod
 * and yaml load with the commands that need them).
 *
 * To add a command:
 *   1. create `src/commands/<name>.ts` exporting a `CliCommand` whose `register(program, context)`
 *      calls `program.command('<name>')`, adds its options, arguments and help text, and wraps its
 *      action in `context.action(async (...args) => ExitCode.Success)` (see `check.ts`);
 *   2. add one entry below.
 * main() does the rest for every command: exit-code handling, one-line errors (throw UsageError
 * for a user's mistake), --help, NO_COLOR. Write output through `context.io`, never `process`.
 */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  {
    name: 'check',
    term: 'check [options] [file]',
    summary: 'run x86 access and instruction vectors through the hardware model, one JSON line each',
    load: async () => (await import('./check')).checkCommand,
  },
  {
    name: 'selftest',
    term: 'selftest',
    summary: "run a kernel test suite (the PKS series' tests, the user-space pkeys selftests)",
    load: async () => (await import('./selftest')).selftestCommand,
  },
  {
    name: 'keys',
    term: 'keys [options]',
    summary: 'list the supervisor keys with owners and default rights (debugfs pks_keys_allocated)',
    load: async () => (await import('./keys')).keysCommand,
  },
  {
    name: 'replay',
    term: 'replay [options] <trace>',
    summary: 'replay a valgrind lackey memory trace against a key policy: accesses and faults per domain',
    load: async () => (await import('./replay')).replayCommand,
  },
  {
    name: 'campaign',
    term: 'campaign [options] <consumer>',
    summary: 'inject stray writes into a consumer (pmem, ...) while it works; count what protection stopped',
    load: async () => (await import('./campaign')).campaignCommand,
  },
  {
    name: 'run',
    term: 'run [options] <file>',
    summary: 'run a scenario file (YAML/JSON) and check its assertions; prints the event log and modeled cost',
    load: async () => (await import('./run')).runCommand,
  },
  {
    name: 'demo',
    term: 'demo [options]',
    summary: 'run the stray-write campaigns under every protection scheme and print one comparison table',
    load: async () => (await import('./demo')).demoCommand,
  },
  {
    name: 'plugins',
    term: 'plugins [options]',
    summary: 'list the registered architecture and scheme plugins (name, kind, package, domains)',
    load: async () => (await import('./plugins')).pluginsCommand,
  },
  {
    name: 'examples',
    term: 'examples [options]',
    summary: 'list the example scenarios shipped with pkeysim, or copy one out to edit',
    load: async () => (await import('./examples')).examplesCommand,
  },
  {
    name: 'inspect',
    term: 'inspect [options] <file>',
    summary:
      'serve a web inspector for a scenario run on 127.0.0.1: rights per CPU at every step, keys, tables, timeline',
    load: async () => (await import('./inspect')).inspectCommand,
  },
  {
    name: 'sweep',
    term: 'sweep',
    summary: 'run a parameter sweep of campaigns on every core or a job queue; merge and report results',
    load: async () => (await import('./sweep')).sweepCommand,
  },
  {
    name: 'worker',
    term: 'worker [options]',
    summary: 'process sweep points from a Redis queue (see pkeysim sweep --queue)',
    load: async () => (await import('./worker')).workerCommand,
  },
];
