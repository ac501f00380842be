import 'reflect-metadata';
import { describe, expect, it, vi } from 'vitest';
import { container as root, inject, injectable } from 'tsyringe';
import type { MachineConfig } from './config';
import { CostModel } from './cost-model';
import { DomainError, isDomainError } from './errors';
import type { Machine } from './machine';
import { byCodeUnits, createMachine, getPlugin, listPlugins, registerPlugin, type ProtectionPlugin } from './plugin';
import { TOKENS } from './tokens';

@injectable()
class RecordingMachine {
  readonly arch = 'test-arch';
  constructor(@inject(TOKENS.MachineConfig) readonly config: MachineConfig) {}
}

const testPlugin: ProtectionPlugin = {
  name: 'test-arch',
  kind: 'architecture',
  description: 'a machine that only records its config',
  register(container) {
    container.register(TOKENS.Machine, { useClass: RecordingMachine as unknown as new () => Machine });
  },
};

describe('plugin registration', () => {
  it('makes a plugin selectable by name and builds its machine through DI', () => {
    registerPlugin(testPlugin);
    expect(getPlugin('test-arch')).toBe(testPlugin);
    expect(listPlugins().map((p) => p.name)).toContain('test-arch');
    const { machine, container } = createMachine({ arch: 'test-arch', cpus: 2 });
    expect((machine as unknown as RecordingMachine).config.cpus).toBe(2);
    expect(container.resolve(TOKENS.CostModel)).toBeInstanceOf(CostModel);
  });

  it("keeps one registration when a package's ESM and CJS builds both register its plugin", () => {
    const esm: ProtectionPlugin = { ...testPlugin, name: 'dual-build', packageName: 'pkeysim-plugin-dual' };
    const cjs: ProtectionPlugin = { ...esm };
    expect(registerPlugin(esm)).toBe(esm);
    expect(registerPlugin(cjs)).toBe(esm);
    expect(getPlugin('dual-build')).toBe(esm);
    expect(() => registerPlugin({ ...esm, packageName: 'another-package' })).toThrow(/already registered/);
  });

  it('keeps one registry per process, shared by every copy of core', async () => {
    registerPlugin(testPlugin);
    vi.resetModules();
    const copy = './plugin?copy=2'; // a second instance of the module, as a second copy of core would be
    const secondCopy = (await import(/* @vite-ignore */ copy)) as typeof import('./plugin');
    expect(secondCopy.getPlugin('test-arch')).toBe(testPlugin);
  });

  it('recognises a DomainError thrown by another copy of core', async () => {
    vi.resetModules();
    const copy = './errors?copy=2';
    const secondCopy = (await import(/* @vite-ignore */ copy)) as typeof import('./errors');
    const foreign = new secondCopy.DomainError('exhausted', 'no key left');
    expect(foreign).not.toBeInstanceOf(DomainError);
    expect(isDomainError(foreign, 'exhausted')).toBe(true);
    expect(isDomainError(new Error('plain'))).toBe(false);
  });

  it('accepts the same plugin twice but refuses another under a taken name', () => {
    registerPlugin(testPlugin);
    expect(() => registerPlugin({ ...testPlugin })).toThrow(/already registered as "test-arch"/);
  });

  it('refuses names that could not be typed on a command line', () => {
    expect(() => registerPlugin({ ...testPlugin, name: 'My Arch' })).toThrow(DomainError);
  });

  it('names the registered plugins when asked for an unknown one', () => {
    registerPlugin(testPlugin);
    expect(() => getPlugin('sparc')).toThrow(/no protection plugin named "sparc".*test-arch/);
  });

  it('refuses a machine with no CPUs', () => {
    expect(() => createMachine({ arch: 'test-arch', cpus: 0 })).toThrow(/cpus must be a whole number/);
  });

  it('refuses a plugin that registers no machine', () => {
    registerPlugin({ name: 'empty-arch', kind: 'scheme', description: 'registers nothing', register() {} });
    expect(() => createMachine({ arch: 'empty-arch', cpus: 1 })).toThrow(/did not register a Machine/);
  });

  it('keeps each machine in its own child container', () => {
    registerPlugin(testPlugin);
    const model = new CostModel({ rights_write: 1 });
    const parent = root.createChildContainer();
    parent.register(TOKENS.CostModel, { useValue: model });
    const a = createMachine({ arch: 'test-arch', cpus: 1 }, parent);
    const b = createMachine({ arch: 'test-arch', cpus: 3 }, parent);
    expect(a.machine).not.toBe(b.machine);
    expect(a.container.resolve(TOKENS.CostModel)).toBe(model);
  });
});

describe('listPlugins order', () => {
  it('is code-unit order, the same in every locale (uppercase before lowercase, "-" before letters)', () => {
    expect(['x86', 'arm64-poe', 'Zed', 'arm64', 'a-b', 'ab'].sort(byCodeUnits)).toEqual([
      'Zed',
      'a-b',
      'ab',
      'arm64',
      'arm64-poe',
      'x86',
    ]);
    const names = listPlugins().map((p) => p.name);
    expect(names).toEqual([...names].sort(byCodeUnits));
  });
});
