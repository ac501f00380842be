import type { DependencyContainer } from 'tsyringe';
import { container as rootContainer } from 'tsyringe';
import type { MachineConfig } from './config';
import { CostModel } from './cost-model';
import { DomainError } from './errors';
import type { Machine } from './machine';
import { TOKENS } from './tokens';

/**
 * A package that provides an architecture or a protection scheme. Its `register` must register
 * {@link TOKENS.Machine} in the container it is given (and may register its own tokens too).
 */
export interface ProtectionPlugin {
  /** The name users select it by (`--arch x86`). Lower case, no spaces. */
  readonly name: string;
  /** An architecture models hardware; a scheme builds domains out of another mechanism. */
  readonly kind: 'architecture' | 'scheme';
  readonly description: string;
  /** The npm package that provides it, for listings (`pkeysim plugins`). */
  readonly packageName?: string;
  /** Register the plugin's {@link TOKENS.Machine} (and any of its own tokens) in `container`, built for `config`. */
  register(container: DependencyContainer, config: MachineConfig): void;
}

/**
 * One registry per process, whichever module system or copy of core loaded a plugin: an ESM CLI
 * and a plugin loaded through `require` (core's CJS build) must see the same plugins.
 */
const REGISTRY_KEY = Symbol.for('pkeysim.plugin-registry');
const registry: Map<string, ProtectionPlugin> =
  ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] as Map<string, ProtectionPlugin> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] = new Map<string, ProtectionPlugin>());

/**
 * Make a plugin selectable by name. Plugin packages call this when imported, so importing the
 * package is all a user does. Registering the same plugin twice is harmless: the same object, or the
 * same package's plugin loaded again through the other module system (its ESM and CJS builds each
 * register; the first stays). Another plugin under a taken name is refused.
 */
export function registerPlugin(plugin: ProtectionPlugin): ProtectionPlugin {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(plugin.name)) {
    throw new DomainError('invalid', `plugin name "${plugin.name}" must be lower case letters, digits, "." or "-"`);
  }
  const existing = registry.get(plugin.name);
  const samePackage = existing?.packageName !== undefined && existing.packageName === plugin.packageName;
  if (existing && samePackage && existing.kind === plugin.kind) return existing;
  if (existing && existing !== plugin) {
    throw new DomainError('invalid', `a different plugin is already registered as "${plugin.name}"`);
  }
  registry.set(plugin.name, plugin);
  return plugin;
}

/** The plugin registered under `name`; a `DomainError('unsupported')` listing the registered ones otherwise. */
export function getPlugin(name: string): ProtectionPlugin {
  const plugin = registry.get(name);
  if (!plugin) {
    const known = [...registry.keys()].sort().join(', ') || 'none';
    throw new DomainError('unsupported', `no protection plugin named "${name}" is registered (registered: ${known})`);
  }
  return plugin;
}

/** Every registered plugin, sorted by name. */
export function listPlugins(): ProtectionPlugin[] {
  return [...registry.values()].sort((a, b) => byCodeUnits(a.name, b.name));
}

/**
 * Build a machine: a child container gets the config and a default cost model, the selected plugin
 * registers its machine, and the machine is resolved once. Callers keep the returned objects.
 */
export function createMachine(
  config: MachineConfig,
  parent: DependencyContainer = rootContainer,
): { machine: Machine; container: DependencyContainer } {
  if (!Number.isInteger(config.cpus) || config.cpus < 1) {
    throw new DomainError('invalid', `cpus must be a whole number >= 1, got ${String(config.cpus)}`);
  }
  const plugin = getPlugin(config.arch);
  const container = parent.createChildContainer();
  container.register(TOKENS.MachineConfig, { useValue: config });
  if (!container.isRegistered(TOKENS.CostModel, true)) {
    container.register(TOKENS.CostModel, { useValue: new CostModel() });
  }
  plugin.register(container, config);
  if (!container.isRegistered(TOKENS.Machine)) {
    throw new DomainError('invalid', `plugin "${plugin.name}" did not register a Machine`);
  }
  return { machine: container.resolve(TOKENS.Machine), container };
}

/**
 * Names in code-unit order: the same on every machine whatever its locale, and with no ICU collator
 * to build (localeCompare's first call cost the CLI's start-up about 9 ms).
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
