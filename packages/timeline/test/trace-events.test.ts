import '@pkeysim/x86';
import '@pkeysim/arm64-poe';
import '@pkeysim/power';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseScenario } from '@pkeysim/scenario';
import { describe, expect, it } from 'vitest';
import { recordScenario, type TraceEvent, type TraceFile, toTraceEvents } from '../src';

const examples = resolve(import.meta.dirname, '../../../examples');
const load = (name: string) => parseScenario(readFileSync(resolve(examples, name), 'utf8'), `examples/${name}`);

/**
 * The Trace Event format's rules a viewer relies on: known phases, numeric non-decreasing ts per
 * track, metadata naming the process and tracks, and B/E pairs that nest (an E closes the
 * innermost open B of its track, with the same name when it gives one).
 */
function validateTrace(file: TraceFile): string[] {
  const problems: string[] = [];
  if (!Array.isArray(file.traceEvents)) return ['traceEvents is not an array'];
  const stacks = new Map<string, string[]>();
  const lastTs = new Map<string, number>();
  for (const [i, e] of file.traceEvents.entries()) {
    const where = `event ${i} (${e.ph} ${e.name})`;
    if (!['B', 'E', 'i', 'C', 'M'].includes(e.ph)) problems.push(`${where}: unknown phase`);
    if (typeof e.name !== 'string' || e.name === '') problems.push(`${where}: no name`);
    if (!Number.isFinite(e.ts) || e.ts < 0) problems.push(`${where}: bad ts`);
    if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) problems.push(`${where}: pid/tid not integers`);
    if (e.ph === 'i' && !['t', 'p', 'g'].includes(e.s ?? 't')) problems.push(`${where}: bad instant scope`);
    if (e.ph === 'C' && !Object.values(e.args ?? {}).every((v) => typeof v === 'number'))
      problems.push(`${where}: counter args must be numbers`);
    if (e.ph === 'M') continue;
    const track = `${e.pid}/${e.tid}`;
    if ((lastTs.get(track) ?? 0) > e.ts) problems.push(`${where}: ts goes back on track ${track}`);
    lastTs.set(track, e.ts);
    const stack = stacks.get(track) ?? [];
    stacks.set(track, stack);
    if (e.ph === 'B') stack.push(e.name);
    if (e.ph === 'E') {
      const top = stack.pop();
      if (top === undefined) problems.push(`${where}: E without B`);
      else if (e.name && e.name !== top) problems.push(`${where}: closes "${top}"`);
    }
  }
  for (const [track, stack] of stacks) if (stack.length) problems.push(`track ${track}: ${stack.join(', ')} left open`);
  return problems;
}

/** The B/E slices of a track as [name, begin, end, depth]. */
function slices(events: readonly TraceEvent[], tid: number): [string, number, number, number][] {
  const out: [string, number, number, number][] = [];
  const stack: { name: string; ts: number }[] = [];
  for (const e of events) {
    if (e.tid !== tid || e.pid !== 1) continue;
    if (e.ph === 'B') stack.push({ name: e.name, ts: e.ts });
    if (e.ph === 'E') {
      const b = stack.pop()!;
      out.push([b.name, b.ts, e.ts, stack.length]);
    }
  }
  return out;
}

describe('Chrome Trace Event export', () => {
  it('writes a valid trace in which the RFC V1 interrupt nests inside the writer thread on CPU 0', () => {
    const { timeline } = recordScenario(load('rfc-v1-interrupt.yaml'));
    const trace = toTraceEvents(JSON.parse(JSON.stringify(timeline)));
    expect(validateTrace(trace)).toEqual([]);
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name);
    expect(names).toEqual(['CPU 0', 'kernel log']);
    const cpu0 = slices(trace.traceEvents, 0);
    const writer = cpu0.find(([name]) => name === 'writer')!;
    const irq = cpu0.find(([name]) => name === 'irq 42')!;
    expect(writer).toBeDefined();
    expect(irq).toBeDefined();
    expect(irq[3]).toBe(writer[3] + 1);
    expect(irq[1]).toBeGreaterThan(writer[1]);
    expect(irq[2]).toBeLessThan(writer[2]);
  });

  it('shows the rights-register writes with their decoded rights per key, the handler closing the key last', () => {
    const { timeline } = recordScenario(load('rfc-v1-interrupt.yaml'));
    const trace = toTraceEvents(timeline);
    const irq = slices(trace.traceEvents, 0).find(([name]) => name === 'irq 42')!;
    const writes = trace.traceEvents.filter((e) => e.ph === 'i' && e.cat === 'rights');
    const inIrq = writes.filter((e) => e.ts > irq[1] && e.ts < irq[2]);
    expect(inIrq.length).toBeGreaterThanOrEqual(2);
    const key = timeline.steps.at(-1)!.keys.find((k) => k.owner === 'irq_window_demo')!.key;
    const rights = (e: TraceEvent) => (e.args?.rights as Record<string, string>)[`key ${key}`];
    expect(rights(inIrq[0])).toBe('rw');
    expect(rights(inIrq.at(-1)!)).toBe('--');
    expect(inIrq.at(-1)!.args?.register).toBe('PKRS');
  });

  it('marks the oopsing write as a fault with its address, key and decoded error code, and the oops report', () => {
    const { timeline } = recordScenario(load('rfc-v1-interrupt.yaml'));
    const trace = toTraceEvents(timeline);
    const faults = trace.traceEvents.filter((e) => e.cat === 'fault');
    expect(faults).toHaveLength(1);
    expect(faults[0].tid).toBe(0);
    expect(faults[0].args).toMatchObject({ object: 'buf+1', outcome: 'oops' });
    expect(String(faults[0].args?.error)).toMatch(/error code 0x\w+ \(.*PK.*\)/);
    expect(typeof faults[0].args?.key).toBe('number');
    const oops = trace.traceEvents.filter((e) => e.cat === 'oops').map((e) => String(e.args?.line));
    expect(oops.some((line) => line.startsWith('BUG: unable to handle page fault'))).toBe(true);
    expect(oops.some((line) => line.startsWith('Oops:'))).toBe(true);
  });

  it('counts modeled cycles as a counter that only grows', () => {
    const { timeline } = recordScenario(load('context-switch.yaml'));
    const trace = toTraceEvents(timeline);
    expect(validateTrace(trace)).toEqual([]);
    const cycles = trace.traceEvents.filter((e) => e.name === 'modeled cycles').map((e) => e.args!.cycles as number);
    expect(cycles.length).toBeGreaterThan(1);
    expect(cycles).toEqual([...cycles].sort((a, b) => a - b));
  });

  it('gives every example a valid trace on its own architecture', () => {
    for (const name of [
      'context-switch.yaml',
      'interrupt-aux-pt-regs.yaml',
      'pmem-stray-write.yaml',
      'signal-pkru-inherit.yaml',
      'key-exhaustion.yaml',
      'global-kmap-leak.yaml',
    ]) {
      const trace = toTraceEvents(recordScenario(load(name)).timeline);
      expect(validateTrace(trace), name).toEqual([]);
    }
  });
});
