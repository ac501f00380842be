import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** A plugin spec turned into the module to import and the package it belongs to. */
export interface ResolvedPlugin {
  /** The file to import. */
  readonly file: string;
  /** The package's name, when the spec led to a package directory. */
  readonly packageName?: string;
}

/**
 * Resolve a plugin spec the way a user means it: a path (starting with `.` or `/`, or an existing
 * relative path) is a package directory or a module file; anything else is a package name, looked
 * up in `node_modules` from `base` upwards and then beside the CLI itself (a global install). A
 * package's entry is its `exports["."]` for `import`, then `module`, then `main`. Returns an error
 * message instead of throwing.
 */
export function resolvePlugin(spec: string, base: string): ResolvedPlugin | string {
  const asPath = isAbsolute(spec) ? spec : resolve(base, spec);
  if (spec.startsWith('.') || isAbsolute(spec) || existsSync(asPath)) {
    if (!existsSync(asPath)) return `no such file or directory: ${asPath}`;
    return statSync(asPath).isDirectory() ? packageEntry(asPath) : { file: asPath };
  }
  const dir = findPackageDir(spec, base) ?? findPackageDir(spec, cliDir());
  if (!dir) return `package '${spec}' is not installed (looked in node_modules from ${base} upwards)`;
  return packageEntry(dir);
}

function cliDir(): string {
  return dirname(createRequire(import.meta.url).resolve('commander'));
}

function findPackageDir(name: string, from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

type ExportTarget = string | { [condition: string]: ExportTarget } | null | undefined;

/** The ESM entry of the package in `dir`. */
function packageEntry(dir: string): ResolvedPlugin | string {
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) {
    const index = ['index.js', 'index.mjs', 'index.cjs'].map((f) => join(dir, f)).find((f) => existsSync(f));
    return index ? { file: index } : `${dir} has no package.json and no index.js`;
  }
  let manifest: {
    name?: string;
    exports?: ExportTarget | Record<string, ExportTarget>;
    module?: string;
    main?: string;
  };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    return `${manifestPath} is not valid JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  const root = rootExport(manifest.exports);
  const target = pickImport(root) ?? manifest.module ?? manifest.main ?? 'index.js';
  const file = join(dir, target);
  if (!existsSync(file)) {
    return `${manifest.name ?? dir}: its entry ${target} does not exist (is the plugin built? run its build first)`;
  }
  return { file, packageName: manifest.name };
}

function rootExport(exports: ExportTarget | Record<string, ExportTarget>): ExportTarget {
  if (typeof exports === 'object' && exports !== null && Object.keys(exports).some((k) => k.startsWith('.'))) {
    return (exports as Record<string, ExportTarget>)['.'];
  }
  return exports as ExportTarget;
}

/** Node's conditions for an ESM import, in the order Node tries them. */
function pickImport(target: ExportTarget): string | undefined {
  if (typeof target === 'string') return target;
  if (typeof target !== 'object' || target === null) return undefined;
  for (const condition of ['node', 'import', 'default']) {
    const found = pickImport(target[condition]);
    if (found) return found;
  }
  return undefined;
}
