import { pathToFileURL } from 'node:url';
import { listPlugins } from '@pkeysim/core';
import { UsageError } from '../errors';
import { resolvePlugin } from './resolve';
import type { PluginSpec } from './specs';

/** What loading third-party plugins added: plugin name -> the package (or file) it came from. */
export type PluginSources = ReadonlyMap<string, string>;

/**
 * The plugin names each module file registered when first imported. Modules are imported once per
 * process (a second import returns the cached module and registers nothing), so a later load of the
 * same file answers from here.
 */
const registeredBy = new Map<string, readonly string[]>();

/**
 * Import each spec once, in order. A plugin registers itself with core when imported; the names
 * that appear in the registry while a spec loads are credited to it. A spec that cannot be
 * resolved or imported, or registers nothing, is a user error (exit 2) naming the spec and where
 * it was given.
 */
export async function loadPlugins(specs: readonly PluginSpec[]): Promise<PluginSources> {
  const sources = new Map<string, string>();
  const seen = new Set<string>();
  for (const { spec, base, origin } of specs) {
    const resolved = resolvePlugin(spec, base);
    if (typeof resolved === 'string') throw new UsageError(`cannot load plugin '${spec}' (${origin}): ${resolved}`);
    if (seen.has(resolved.file)) continue;
    seen.add(resolved.file);
    let names = registeredBy.get(resolved.file);
    if (names === undefined) {
      const before = new Set(listPlugins().map((p) => p.name));
      try {
        await import(pathToFileURL(resolved.file).href);
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        throw new UsageError(`cannot load plugin '${spec}' (${origin}): ${reason}`);
      }
      names = listPlugins()
        .filter((p) => !before.has(p.name))
        .map((p) => p.name);
      registeredBy.set(resolved.file, names);
    }
    // A built-in package named again (`--plugin @pkeysim/x86`) registered nothing new: it is loaded.
    const added = listPlugins().filter(
      (p) => names.includes(p.name) || (resolved.packageName !== undefined && p.packageName === resolved.packageName),
    );
    if (added.length === 0) {
      throw new UsageError(
        `cannot load plugin '${spec}' (${origin}): importing ${resolved.file} registered no protection plugin (call registerPlugin at module top level)`,
      );
    }
    for (const plugin of added) sources.set(plugin.name, plugin.packageName ?? resolved.packageName ?? resolved.file);
  }
  return sources;
}
