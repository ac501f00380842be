/**
 * Where third-party plugins come from, in the order they load: the project's config file
 * (`plugins`), the `PKEYSIM_PLUGINS` environment variable (comma-separated), then each
 * `--plugin <package-or-path>` on the command line. A spec is an npm package name or a path (to a
 * package directory or a module file); `base` is the directory a relative path is taken from.
 */
export interface PluginSpec {
  readonly spec: string;
  readonly base: string;
  /** Where the spec was written, for error messages: `--plugin`, `PKEYSIM_PLUGINS`, a config file. */
  readonly origin: string;
}

/** The environment variable listing plugins to load for every command. */
export const PLUGINS_ENV = 'PKEYSIM_PLUGINS';

/**
 * Take every `--plugin X` / `--plugin=X` out of `argv` (before a `--` terminator), so plugins load
 * before commander parses the rest: `--arch NAME` is checked against the registry as it is parsed.
 */
export function takePluginArgs(argv: readonly string[]): { specs: string[]; rest: string[]; missingValue: boolean } {
  const specs: string[] = [];
  const rest: string[] = [];
  let missingValue = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--plugin') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('-')) missingValue = true;
      else specs.push(value);
      i++;
    } else if (arg.startsWith('--plugin=')) {
      const value = arg.slice('--plugin='.length);
      if (value === '') missingValue = true;
      else specs.push(value);
    } else {
      rest.push(arg);
    }
  }
  return { specs, rest, missingValue };
}

/** The specs in `PKEYSIM_PLUGINS`: comma-separated, blanks ignored. */
export function envPluginSpecs(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
