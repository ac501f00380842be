import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cliPackage } from './package-root';

/**
 * The example scenarios shipped with the CLI: the package's `examples/` (copied there at build time),
 * or the repository's own `examples/` when running from sources.
 */
export function shippedExamplesDir(): string | undefined {
  const root = cliPackage()?.dir;
  if (!root) return undefined;
  for (const dir of [join(root, 'examples'), join(root, '..', '..', 'examples')]) {
    if (existsSync(dir) && statSync(dir).isDirectory()) return dir;
  }
  return undefined;
}

/** One shipped example: its path below examples/ and the first sentence of its description. */
export interface ShippedExample {
  readonly name: string;
  readonly summary: string;
}

/** Every shipped example file (YAML or JSON), sorted by path. */
export function listShippedExamples(): ShippedExample[] {
  const root = shippedExamplesDir();
  if (!root) return [];
  const found: ShippedExample[] = [];
  (function walk(dir: string): void {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ya?ml|json)$/.test(entry)) {
        found.push({
          name: relative(root, path).split('\\').join('/'),
          summary: summaryOf(readFileSync(path, 'utf8')),
        });
      }
    }
  })(root);
  return found;
}

/** The first sentence of a top-level `description:` (plain or folded), or ''. */
function summaryOf(text: string): string {
  const match = /^description:\s*(?:[>|][-+]?\s*\n((?:[ \t]+.*\n?)+)|(.+))/m.exec(text);
  const body = (match?.[1] ?? match?.[2] ?? '').replace(/\s+/g, ' ').trim();
  const sentence = /^(.+?\.)(\s|$)/.exec(body)?.[1] ?? body;
  return sentence.length > 100 ? `${sentence.slice(0, 97)}...` : sentence;
}

/**
 * The shipped copy of `path` when `path` names an example (`examples/x.yaml`, `./examples/x.yaml`)
 * that does not exist where the user is, so the README's `pkeysim run examples/...` lines work after
 * an npm install; undefined otherwise.
 */
export function shippedExampleFor(path: string): string | undefined {
  const match = /^(?:\.\/)?examples\/(.+)$/.exec(path.split('\\').join('/'));
  const root = shippedExamplesDir();
  if (!match || !root) return undefined;
  const candidate = join(root, match[1]!);
  return existsSync(candidate) && !relative(root, candidate).startsWith('..') ? candidate : undefined;
}
