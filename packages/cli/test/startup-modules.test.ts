import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * Commands load only what they use (issue 13, start-up): the built CLI in a child process, with a
 * module hook that logs every file it imports. `npm test` builds the package first (nx: test
 * dependsOn build); run `npm run build` before running this file alone. CPU figures are the
 * bench's job (bench/startup-cpu.mjs); this test pins down what makes them.
 */
const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'pkeysim.js');
const register = join(import.meta.dirname, 'fixtures', 'module-log', 'register.mjs');

/** The packages (`@pkeysim/x86`, `zod`, ...) and entries (`@pkeysim/core/echo`) a run of `args` loaded. */
function loadedBy(args: string[]): Set<string> {
  if (!existsSync(join(root, 'dist', 'main.js'))) throw new Error('packages/cli/dist is missing: run `npm run build`');
  const child = spawnSync(process.execPath, ['--import', register, bin, ...args], { encoding: 'utf8', cwd: root });
  expect(child.status, child.stderr).toBe(0);
  const loaded = new Set<string>();
  for (const [, url] of child.stderr.matchAll(/^module-log (\S+)$/gm)) {
    const sibling = /\/packages\/([^/]+)\/dist\/([^/]+)\.(?:c?js)$/.exec(url);
    if (sibling && sibling[1] !== 'cli')
      loaded.add(`@pkeysim/${sibling[1]}${sibling[2] === 'index' ? '' : `/${sibling[2]}`}`);
    const dependency = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (dependency && !url.includes('/packages/')) loaded.add(dependency[1]);
  }
  return loaded;
}

describe('start-up: a command loads only what it uses', () => {
  it('pkeysim --version loads no pkeysim package, no DI container, no command parser, no schema or YAML library', () => {
    const loaded = loadedBy(['--version']);
    expect([...loaded].filter((m) => m.startsWith('@pkeysim/'))).toEqual([]);
    // Not even the command parser or the plugin config search: the version comes from package.json.
    for (const heavy of ['tsyringe', 'reflect-metadata', 'zod', 'yaml', 'commander', 'lilconfig'])
      expect(loaded).not.toContain(heavy);
  });

  it('pkeysim campaign pmem loads x86 and pmem, not the other architectures, consumers, scenario or zod', () => {
    const loaded = loadedBy(['campaign', 'pmem', '--seed', '1']);
    for (const used of ['@pkeysim/x86', '@pkeysim/pmem', '@pkeysim/kernel']) expect(loaded).toContain(used);
    for (const unused of [
      '@pkeysim/arm64-poe',
      '@pkeysim/power',
      '@pkeysim/pgtable-guard',
      '@pkeysim/ro-at-rest',
      '@pkeysim/kmap-apis',
      '@pkeysim/scenario',
      '@pkeysim/inspector',
      '@pkeysim/timeline',
      '@pkeysim/x86/vectors',
      'zod',
      'yaml',
    ])
      expect(loaded).not.toContain(unused);
  });

  it('pkeysim campaign pmem --arch power loads power, not x86', () => {
    const loaded = loadedBy(['campaign', 'pmem', '--seed', '1', '--arch', 'power']);
    expect(loaded).toContain('@pkeysim/power');
    expect(loaded).not.toContain('@pkeysim/x86');
  });

  it('pkeysim demo loads every campaign and scheme, not the trace recorder, HTML renderer, API campaign, scenario or zod', () => {
    const loaded = loadedBy(['demo', '--runs', '1', '--threads', '1', '--ops', '1']);
    for (const used of ['@pkeysim/pmem', '@pkeysim/pgtable-guard', '@pkeysim/ro-at-rest', '@pkeysim/scheme-vkeys'])
      expect(loaded).toContain(used);
    for (const unused of [
      '@pkeysim/timeline',
      '@pkeysim/inspector',
      '@pkeysim/kmap-apis',
      '@pkeysim/scenario',
      'zod',
      'yaml',
    ])
      expect(loaded).not.toContain(unused);
  });

  it('pkeysim demo --trace-out loads the trace recorder only then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkeysim-demo-trace-'));
    try {
      const loaded = loadedBy([
        'demo',
        '--runs',
        '1',
        '--threads',
        '1',
        '--ops',
        '1',
        '--trace-out',
        join(dir, 't.json'),
      ]);
      expect(loaded).toContain('@pkeysim/timeline');
      expect(loaded).not.toContain('@pkeysim/inspector');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
