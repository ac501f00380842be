import { dirname } from 'node:path';
import { lilconfig } from 'lilconfig';
import { UsageError } from '../errors';
import type { PluginSpec } from './specs';

/** The names a project config is found under, searched from the working directory upwards. */
export const CONFIG_FILES = [
  'package.json',
  'pkeysim.config.json',
  'pkeysim.config.mjs',
  'pkeysim.config.cjs',
  'pkeysim.config.js',
  '.pkeysimrc.json',
] as const;

/**
 * The plugins named by the nearest project config (`{ "plugins": ["pkg", "./local"] }`, or the
 * `pkeysim` key of package.json), found with lilconfig. Relative paths are taken from the config
 * file's directory. A config that is not an object with a string array `plugins` is a user error
 * naming the file and the field.
 */
export async function configPluginSpecs(cwd: string): Promise<PluginSpec[]> {
  let found: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    found = await lilconfig('pkeysim', { searchPlaces: [...CONFIG_FILES] }).search(cwd);
  } catch (error) {
    const where = (error as { filepath?: string }).filepath ?? 'the pkeysim config file';
    throw new UsageError(
      `cannot read ${where}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  if (!found || found.isEmpty) return [];
  const config = (found.config as { default?: unknown } | null)?.default ?? found.config;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new UsageError(`${found.filepath}: the pkeysim config must be an object, found ${describe(config)}`);
  }
  const plugins = (config as { plugins?: unknown }).plugins;
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins)) {
    throw new UsageError(
      `${found.filepath}: field "plugins" must be an array of package names or paths, found ${describe(plugins)}`,
    );
  }
  return plugins.map((spec, index) => {
    if (typeof spec !== 'string' || spec.trim() === '') {
      throw new UsageError(
        `${found.filepath}: field "plugins[${index}]" must be a package name or path, found ${describe(spec)}`,
      );
    }
    return { spec, base: dirname(found.filepath), origin: found.filepath };
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}
