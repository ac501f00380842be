import { UsageError } from '../errors';
import { configPluginSpecs } from './config-file';
import type { PluginSources } from './load';
import { envPluginSpecs, PLUGINS_ENV, takePluginArgs, type PluginSpec } from './specs';

/**
 * Load every third-party plugin a run asks for (config file, then PKEYSIM_PLUGINS, then
 * `--plugin`) and return the arguments left for commander.
 */
export async function loadPluginsFor(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<{ rest: string[]; plugins: PluginSources }> {
  const { specs, rest, missingValue } = takePluginArgs(argv);
  if (missingValue) throw new UsageError("option '--plugin <package-or-path>' argument missing (try 'pkeysim --help')");
  const all: PluginSpec[] = [
    ...(await configPluginSpecs(cwd)),
    ...envPluginSpecs(env[PLUGINS_ENV]).map((spec) => ({ spec, base: cwd, origin: PLUGINS_ENV })),
    ...specs.map((spec) => ({ spec, base: cwd, origin: '--plugin' })),
  ];
  if (all.length === 0) return { rest, plugins: new Map() };
  // Loaded only when there is a plugin to load: it needs core's registry.
  const { loadPlugins } = await import('./load');
  return { rest, plugins: await loadPlugins(all) };
}
