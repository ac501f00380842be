import { createMachine, getPlugin, isDomainError, Privilege, privilegeName } from '@pkeysim/core';
import { KernelError } from '@pkeysim/kernel';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import type { PluginSources } from './load';

/**
 * When a command run on `--arch NAME` fails because the plugin has too little for it (the kernel
 * found no key left for a consumer: -ENOSPC; or a feature the plugin lacks: -EOPNOTSUPP), that is
 * not a bug in pkeysim: it is one line naming the plugin, what it lacks and what it has (exit 2).
 * Returns undefined for any other error.
 */
export function pluginShortfall(
  error: unknown,
  command: Command | undefined,
  commandName: string,
  sources: PluginSources,
): UsageError | undefined {
  const arch = command?.opts<{ arch?: unknown }>().arch;
  if (typeof arch !== 'string') return undefined;
  const lacking =
    isDomainError(error, 'exhausted') ||
    isDomainError(error, 'unsupported') ||
    (error instanceof KernelError && (error.code === 'ENOSPC' || error.code === 'EOPNOTSUPP'));
  if (!lacking) return undefined;
  const reason = (error as Error).message;
  return new UsageError(
    `plugin '${arch}'${packageOf(arch, sources)} cannot serve '${commandName}': ${reason}; it has ${spacesOf(arch)}`,
  );
}

function packageOf(arch: string, sources: PluginSources): string {
  try {
    const name = getPlugin(arch).packageName ?? sources.get(arch);
    return name ? ` (${name})` : '';
  } catch {
    return '';
  }
}

/** "supervisor: 2 domains (two-keys.pks), user: none", from a 1-CPU machine of the plugin. */
function spacesOf(arch: string): string {
  try {
    const { machine } = createMachine({ arch, cpus: 1 });
    return [Privilege.Supervisor, Privilege.User]
      .map((privilege) => {
        const space = machine.domainSpace(privilege);
        const count = space ? (Number.isFinite(space.info.domains) ? space.info.domains : 'unbounded') : undefined;
        return `${privilegeName(privilege)} pages: ${space ? `${count} domains (${space.info.id})` : 'no domain space'}`;
      })
      .join(', ');
  } catch (error) {
    return `a machine that cannot be built (${error instanceof Error ? error.message : String(error)})`;
  }
}
