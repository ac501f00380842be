// The bundled architectures and schemes, loaded on demand: importing a plugin package registers it,
// and a command loads only the ones it runs on (`pkeysim campaign pmem` loads x86 alone), so
// start-up pays for what the run uses. Third-party plugins register before parsing (plugins/).
import { byCodeUnits, listPlugins, type ProtectionPlugin } from '@pkeysim/core';

type PluginKind = ProtectionPlugin['kind'];
import { Option } from 'commander';
import { UsageError } from './errors';

/** The architecture a command runs on unless `--arch` says otherwise. */
export const DEFAULT_ARCH = 'x86';

/** A plugin bundled with the CLI: its registered name and kind, and the import that registers it. */
interface BundledPlugin {
  readonly name: string;
  readonly kind: PluginKind;
  readonly load: () => Promise<unknown>;
}

/** Every bundled plugin; a test checks each `load` registers exactly the `name` and `kind` given. */
export const BUNDLED_PLUGINS: readonly BundledPlugin[] = [
  { name: 'x86', kind: 'architecture', load: () => import('@pkeysim/x86') },
  { name: 'arm64-poe', kind: 'architecture', load: () => import('@pkeysim/arm64-poe') },
  { name: 'power', kind: 'architecture', load: () => import('@pkeysim/power') },
  { name: 'pagetable', kind: 'scheme', load: () => import('@pkeysim/scheme-pagetable') },
  { name: 'vkeys', kind: 'scheme', load: () => import('@pkeysim/scheme-vkeys') },
  { name: 'capability', kind: 'scheme', load: () => import('@pkeysim/scheme-capability') },
];

/** Import the bundled plugin named `name`, if there is one (a registered third-party name is a no-op). */
export async function loadArch(name: string): Promise<void> {
  await BUNDLED_PLUGINS.find((p) => p.name === name)?.load();
}

/** Import every bundled plugin, or those of one kind: for commands that list plugins or may run on any of them. */
export async function loadBundledPlugins(kind?: PluginKind): Promise<void> {
  await Promise.all(BUNDLED_PLUGINS.filter((p) => kind === undefined || p.kind === kind).map((p) => p.load()));
}

/** Every plugin a run can name, bundled (loaded or not) and registered, as `name (kind)`, sorted by name. */
function knownPlugins(): { name: string; kind: PluginKind }[] {
  const byName = new Map<string, PluginKind>(BUNDLED_PLUGINS.map((p) => [p.name, p.kind]));
  for (const p of listPlugins()) byName.set(p.name, p.kind);
  return [...byName].map(([name, kind]) => ({ name, kind })).sort((a, b) => byCodeUnits(a.name, b.name));
}

/** The names `--arch` accepts (bundled and registered), sorted. */
export function archNames(): string[] {
  return knownPlugins().map((p) => p.name);
}

/** `name` if a bundled or registered plugin has it, or a UsageError that lists every one (exit code 2, no stack). */
export function checkArchName(name: string): string {
  if (knownPlugins().some((p) => p.name === name)) return name;
  const known = knownPlugins()
    .map((p) => `${p.name} (${p.kind})`)
    .join(', ');
  throw new UsageError(`no architecture or scheme plugin named '${name}' (registered: ${known})`);
}

/** The plugin named `name`, loading it first if it is bundled; a UsageError naming every known one if none is. */
export async function resolveArch(name: string): Promise<ProtectionPlugin> {
  checkArchName(name);
  await loadArch(name);
  return listPlugins().find((p) => p.name === name)!;
}

/**
 * `--arch <name>`, checked against the known names when parsed; the value is the plugin name. The
 * program's preAction hook (program.ts) loads it before the command's action runs.
 */
export function archOption(description = 'architecture or protection-scheme plugin to run on'): Option {
  return new Option('--arch <name>', `${description} (${archNames().join(', ')})`)
    .default(DEFAULT_ARCH)
    .argParser(checkArchName);
}
