import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { archNames, archOption, resolveArch } from './arch';
import { UsageError } from './errors';

describe('--arch', () => {
  it('registers every architecture and scheme package', () => {
    expect(archNames()).toEqual(expect.arrayContaining(['x86', 'arm64-poe', 'power', 'pagetable', 'vkeys']));
    expect(resolveArch('vkeys').kind).toBe('scheme');
  });

  it('refuses an unknown name with a usage error that lists the registered plugins', () => {
    expect(() => resolveArch('mips')).toThrow(UsageError);
    expect(() => resolveArch('mips')).toThrow(
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
