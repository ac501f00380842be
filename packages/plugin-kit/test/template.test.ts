import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createMachine, getPlugin, Privilege } from '@pkeysim/core';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConformance, formatConformanceFailures } from '@pkeysim/plugin-kit/conformance';

const workspace = resolve(import.meta.dirname, '../../..');
const template = resolve(import.meta.dirname, '../template');
const outside = mkdtempSync(join(tmpdir(), 'pkeysim-template-'));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

/** Copy the template out of the repository and point its @pkeysim dependencies at the workspace packages. */
function installOutside(): void {
  cpSync(template, outside, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(outside, 'package.json'), 'utf8'));
  for (const name of Object.keys(pkg.dependencies).filter((d) => d.startsWith('@pkeysim/'))) {
    pkg.dependencies[name] = `file:${join(workspace, 'packages', name.slice('@pkeysim/'.length))}`;
  }
  // Every workspace package resolves to its sources, so the dependencies' own @pkeysim imports
  // (x86 -> machine-kit, ...) are checked against current code rather than a stale dist build.
  // The workspace's own path map (package roots and subpath exports such as plugin-kit/vitest).
  const base = JSON.parse(readFileSync(join(workspace, 'tsconfig.base.json'), 'utf8'));
  const paths: Record<string, string[]> = {};
  for (const [name, targets] of Object.entries(base.compilerOptions.paths as Record<string, string[]>)) {
    paths[name] = targets.map((target) => join(workspace, target));
  }
  writeFileSync(join(outside, 'package.json'), JSON.stringify(pkg, null, 2));
  // Third-party dependencies (tsyringe, vitest) come from the workspace's install; @pkeysim/* from sources.
  symlinkSync(join(workspace, 'node_modules'), join(outside, 'node_modules'), 'dir');
  const tsconfig = JSON.parse(readFileSync(join(outside, 'tsconfig.json'), 'utf8'));
  tsconfig.compilerOptions.paths = paths;
  tsconfig.compilerOptions.allowImportingTsExtensions = true;
  writeFileSync(join(outside, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
}

describe('the template plugin, built as an outside package', () => {
  installOutside();

  it('typechecks with its own tsconfig against the workspace packages', () => {
    const tsc = join(workspace, 'node_modules/typescript/bin/tsc');
    const run = (): string =>
      execFileSync(process.execPath, [tsc, '-p', join(outside, 'tsconfig.json')], { encoding: 'utf8' });
    expect(run).not.toThrow();
  }, 120_000);

  it('registers itself with core when imported, and passes the conformance suite', async () => {
    await import(/* @vite-ignore */ join(outside, 'src/index.ts'));
    const plugin = getPlugin('example-wpinit');
    expect(plugin.kind).toBe('scheme');
    const make = () => createMachine({ arch: 'example-wpinit', cpus: 2 }).machine;
    const failures = checkConformance(make);
    expect(formatConformanceFailures(failures)).toEqual([]);
    expect(make().domainSpace(Privilege.Supervisor)?.info.id).toBe('wpinit.pks');
  });
});
