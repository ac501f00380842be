import { Command } from 'commander';
import { listPlugins } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { archNames, archOption, BUNDLED_PLUGINS, loadArch, resolveArch } from './arch';
import { UsageError } from './errors';

describe('--arch', () => {
  it('knows every bundled architecture and scheme before any is loaded', () => {
    expect(archNames()).toEqual(
      expect.arrayContaining(['x86', 'arm64-poe', 'power', 'pagetable', 'vkeys', 'capability']),
    );
  });

  it('loads a bundled plugin when resolved, and it registers under the name and kind the table gives', async () => {
    for (const bundled of BUNDLED_PLUGINS) {
      await loadArch(bundled.name);
      const registered = listPlugins().find((p) => p.name === bundled.name);
      expect(registered?.kind, bundled.name).toBe(bundled.kind);
    }
    expect((await resolveArch('vkeys')).kind).toBe('scheme');
  });

  it('refuses an unknown name with a usage error that lists the known plugins', async () => {
    await expect(resolveArch('mips')).rejects.toThrow(UsageError);
    await expect(resolveArch('mips')).rejects.toThrow(
      /no architecture or scheme plugin named 'mips' \(registered: .*pagetable \(scheme\).*x86 \(architecture\)/,
    );
  });

  it('parses into the plugin name, defaulting to x86', () => {
    const parse = (args: string[]): string => {
      const program = new Command().exitOverride().addOption(archOption());
      program.parse(args, { from: 'user' });
      return program.opts<{ arch: string }>().arch;
    };
    expect(parse([])).toBe('x86');
    expect(parse(['--arch', 'pagetable'])).toBe('pagetable');
    expect(() => parse(['--arch', 'sparc'])).toThrow(/sparc/);
  });
});
