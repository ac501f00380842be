import {
  createMachine,
  listPlugins,
  Privilege,
  privilegeName,
  type DomainSpace,
  type ProtectionPlugin,
} from '@pkeysim/core';
import { loadBundledPlugins } from '../arch';
import type { CliCommand, CommandContext } from '../command';
import { ExitCode } from '../exit-codes';
import { SCHEMA } from '../json/names';
import { outputOption, withReport } from '../report';

/** One domain space of a plugin's machine, as listed. */
export interface ListedSpace {
  readonly id: string;
  readonly register: string;
  readonly governs: string;
  /** `null` for an unbounded space (JSON has no Infinity). */
  readonly domains: number | null;
}

/** One registered plugin, as listed. */
export interface ListedPlugin {
  readonly name: string;
  readonly kind: ProtectionPlugin['kind'];
  readonly package: string;
  readonly description: string;
  readonly spaces: readonly ListedSpace[];
  /** Why the plugin's machine could not be built for the listing, if it could not. */
  readonly error?: string;
}

const EXAMPLES = `
Lists every protection plugin registered: the built-in architectures and schemes, and third-party
plugins loaded with --plugin, PKEYSIM_PLUGINS or a pkeysim.config.* file. Domains are read from a
1-CPU machine the plugin builds.

Examples:
  pkeysim plugins
  pkeysim --plugin ./my-plugin plugins --json`;

/** `pkeysim plugins`: the registered plugins with their package and domain spaces. */
export const pluginsCommand: CliCommand = {
  register(program, context) {
    program
      .command('plugins')
      .description('list the registered architecture and scheme plugins (name, kind, package, domains)')
      .option('--json', 'print the listing as one JSON document (docs/output.md)')
      .addOption(outputOption())
      .addHelpText('after', EXAMPLES)
      .action(
        context.action(async (flags: { json?: boolean; output?: string }) => {
          // The listing includes every bundled plugin, not only those this run has loaded.
          await loadBundledPlugins();
          const listed = listPlugins().map((plugin) => describePlugin(plugin, context));
          return withReport(context, flags.output, async (out) => {
            if (flags.json) await out.line(JSON.stringify({ schema: SCHEMA.plugins, plugins: listed }));
            else for (const line of formatPlugins(listed)) await out.line(line);
            return ExitCode.Success;
          });
        }),
      );
  },
};

function describePlugin(plugin: ProtectionPlugin, context: CommandContext): ListedPlugin {
  const base = {
    name: plugin.name,
    kind: plugin.kind,
    package: plugin.packageName ?? context.plugins.get(plugin.name) ?? '(unknown)',
    description: plugin.description,
  };
  try {
    const { machine } = createMachine({ arch: plugin.name, cpus: 1 });
    const spaces = new Set<DomainSpace>();
    for (const privilege of [Privilege.Supervisor, Privilege.User]) {
      const space = machine.domainSpace(privilege);
      if (space) spaces.add(space);
    }
    return { ...base, spaces: [...spaces].map(listSpace) };
  } catch (error) {
    return { ...base, spaces: [], error: error instanceof Error ? error.message : String(error) };
  }
}

function listSpace(space: DomainSpace): ListedSpace {
  const { id, register, governs, domains } = space.info;
  return {
    id,
    register,
    governs: governs === 'shared' ? 'shared' : privilegeName(governs),
    domains: Number.isFinite(domains) ? domains : null,
  };
}

/** The text listing: one line per plugin, its spaces after it. */
export function formatPlugins(plugins: readonly ListedPlugin[]): string[] {
  const width = Math.max(...plugins.map((p) => p.name.length), 4);
  const lines: string[] = [];
  for (const p of plugins) {
    const spaces = p.spaces.map((s) => `${s.id} (${s.register}, ${s.domains ?? 'unbounded'} domains)`).join(', ');
    lines.push(`${p.name.padEnd(width)}  ${p.kind.padEnd(12)}  ${p.package}`);
    lines.push(
      `${' '.repeat(width)}  ${p.error ? `cannot build a machine: ${p.error}` : spaces || 'no domain spaces'}`,
    );
  }
  lines.push(`${plugins.length} plugins registered`);
  return lines;
}
