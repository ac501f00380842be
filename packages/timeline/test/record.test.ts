import '@pkeysim/x86';
import '@pkeysim/arm64-poe';
import '@pkeysim/power';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CostModel, Deny } from '@pkeysim/core';
import { createKernel } from '@pkeysim/kernel';
import { parseScenario, runScenario } from '@pkeysim/scenario';
import { describe, expect, it } from 'vitest';
import { recordScenario, snapshot } from '../src';

const examples = resolve(import.meta.dirname, '../../../examples');
const names = readdirSync(examples).filter((f) => f.endsWith('.yaml'));
const load = (name: string) => parseScenario(readFileSync(resolve(examples, name), 'utf8'), `examples/${name}`);

describe('recording a scenario', () => {
  it('changes nothing of the run it records: the same events, faults, costs and verdict for every example', () => {
    for (const name of names) {
      const plain = runScenario(load(name));
      const { result, timeline } = recordScenario(load(name));
      expect(result.events, name).toEqual(plain.events);
      expect(result.costs, name).toEqual(plain.costs);
      expect(result.passed, name).toBe(plain.passed);
      expect(timeline.steps.length, name).toBe(timeline.events.length);
    }
  });

  it('records the state after each step: the writer opens its key, the interrupt closes it under it', () => {
    const { timeline } = recordScenario(load('rfc-v1-interrupt.yaml'));
    const key = timeline.steps.at(-1)!.keys.find((k) => k.owner === 'irq_window_demo')!.key;
    const rightsAt = (seq: number) => timeline.steps[seq]!.cpus[0].supervisor!.keys.find((k) => k.key === key)!.rights;
    const entry = timeline.events.find((e) => e.type === 'entry' && e.vector === 'irq 42')!;
    const exit = timeline.events.find((e) => e.type === 'exit' && e.vector === 'irq 42')!;
    expect(rightsAt(entry.seq)).toBe('rw');
    expect(timeline.steps[entry.seq]!.cpus[0].frames.map((f) => f.vector)).toEqual(['irq 42']);
    expect(timeline.steps[entry.seq]!.cpus[0].frames[0].saved).toBeNull(); // RFC V1: nothing saved
    expect(rightsAt(exit.seq)).toBe('--');
    expect(timeline.steps[exit.seq]!.cpus[0].frames).toEqual([]);
    const writer = timeline.steps[exit.seq]!.threads.find((t) => t.name === 'writer')!;
    expect(writer.saved!.keys.find((k) => k.key === key)!.rights).toBe('--');
    expect(timeline.steps[exit.seq]!.pages.find((p) => p.object === 'buf')!.key).toBe(key);
    expect(timeline.steps[exit.seq]!.cpus[0].tlb!.some((t) => t.object === 'buf' && t.key === key)).toBe(true);
  });

  it.each([
    ['x86', 'PKRS', 16],
    ['arm64-poe', 'POR_EL1', 8],
    ['power', 'AMR/IAMR', 32],
  ])('decodes %s rights through the plugin: %s, %i keys', (arch, register, keys) => {
    const kernel = createKernel({ arch, cpus: 2, seed: 1, keyDesign: 'dynamic' });
    const key = kernel.pks_key_alloc('test');
    expect(key).toBeGreaterThan(0);
    kernel.cpu(1).pks_update_protection(key, 0);
    const view = { machine: kernel.machine, kernel, keys: new Map(), objects: new Map(), costs: new CostModel() };
    const counts = kernel.machine.events.counts.slice();
    const state = snapshot(view);
    expect(kernel.machine.events.counts).toEqual(counts);
    const cpu1 = state.cpus[1].supervisor!;
    expect(cpu1.register).toBe(register);
    expect(cpu1.value).toBe(kernel.space!.format(kernel.space!.read(1)));
    expect(cpu1.keys.length).toBe(Math.min(keys, 32));
    expect(cpu1.keys.find((k) => k.key === key)!.denials).toBe(Deny.None);
    expect(state.cpus[0].supervisor!.keys.find((k) => k.key === key)!.rights).toMatch(/^--/);
    expect(state.keys.map((k) => k.owner)).toContain('test');
  });
});
