// Importing every architecture and scheme package registers its plugin, so `--arch NAME` can select it.
import '@pkeysim/x86';
import '@pkeysim/arm64-poe';
import '@pkeysim/power';
import '@pkeysim/scheme-pagetable';
import '@pkeysim/scheme-vkeys';
import '@pkeysim/scheme-capability';
import { listPlugins, type ProtectionPlugin } from '@pkeysim/core';
import { Option } from 'commander';
import { UsageError } from './errors';

/** The architecture a command runs on unless `--arch` says otherwise. */
export const DEFAULT_ARCH = 'x86';

/** The registered plugin names, sorted. */
export function archNames(): string[] {
  return listPlugins().map((p) => p.name);
}

/** The plugin named `name`, or a UsageError that lists every registered one (exit code 2, no stack). */
export function resolveArch(name: string): ProtectionPlugin {
  const plugin = listPlugins().find((p) => p.name === name);
  if (!plugin) {
    const known = listPlugins()
      .map((p) => `${p.name} (${p.kind})`)
      .join(', ');
    throw new UsageError(`no architecture or scheme plugin named '${name}' (registered: ${known})`);
  }
  return plugin;
}

/** `--arch <name>`, checked against the registry when parsed; the value is the plugin name. */
export function archOption(description = 'architecture or protection-scheme plugin to run on'): Option {
  return new Option('--arch <name>', `${description} (${archNames().join(', ')})`)
    .default(DEFAULT_ARCH)
    .argParser((value: string) => resolveArch(value).name);
}
