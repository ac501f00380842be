import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/run-cli';

const EXAMPLE = resolve(import.meta.dirname, '../../../../examples/rfc-v1-interrupt.yaml');

interface Ev {
  name: string;
  ph: string;
  ts: number;
  tid: number;
  cat?: string;
}

describe('pkeysim run --trace-out', () => {
  it('writes a Chrome trace whose CPU 0 track nests the interrupt inside the writer, and prints the run as before', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pkeysim-trace-')), 't.json');
    const plain = await runCli(['run', EXAMPLE]);
    const traced = await runCli(['run', EXAMPLE, '--trace-out', out]);
    expect(traced.code).toBe(0);
    expect(traced.stdout).toBe(plain.stdout);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: Ev[] };
    const cpu0 = trace.traceEvents.filter((e) => e.tid === 0 && (e.ph === 'B' || e.ph === 'E'));
    const open: string[] = [];
    let nestedIn: string[] | undefined;
    for (const e of cpu0) {
      if (e.ph === 'B') {
        if (e.name === 'irq 42') nestedIn = [...open];
        open.push(e.name);
      } else expect(open.pop()).toBe(e.name);
    }
    expect(nestedIn).toEqual(['writer']);
  });

  it('exits 2 with one line when the trace cannot be written', async () => {
    const run = await runCli(['run', EXAMPLE, '--trace-out', '/nonexistent-dir/t.json']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('pkeysim: cannot write /nonexistent-dir/t.json: no such directory');
  });

  it('campaign --trace-out records the campaign machine without changing its result', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pkeysim-trace-')), 'c.json');
    const args = ['campaign', 'pmem', '--seed', '1', '--mode', 'strict', '--json'];
    const plain = await runCli(args);
    const traced = await runCli([...args, '--trace-out', out]);
    expect(traced.code).toBe(0);
    expect(traced.stdout).toBe(plain.stdout);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as {
      traceEvents: (Ev & { pid: number; args?: Record<string, unknown> })[];
    };
    expect(nestingProblems(trace.traceEvents)).toEqual([]);
    const process = trace.traceEvents.find((e) => e.ph === 'M' && e.name === 'process_name')!;
    expect(process.args?.name).toBe('pmem campaign, seed 1, protection on (x86)');
    const writes = trace.traceEvents.filter((e) => e.cat === 'rights');
    expect(writes.length).toBeGreaterThan(10);
    expect(writes[0].args?.register).toBe('PKRS');
    expect(trace.traceEvents.some((e) => e.cat === 'fault')).toBe(true);
    expect(trace.traceEvents.some((e) => e.ph === 'C' && e.name === 'modeled cycles')).toBe(true);
  });

  it('demo --trace-out gives each campaign machine its own process and the same table', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pkeysim-trace-')), 'd.json');
    const plain = await runCli(['demo', '--runs', '1', '--json']);
    const traced = await runCli(['demo', '--runs', '1', '--json', '--trace-out', out]);
    expect(traced.code).toBe(0);
    const strip = (text: string) =>
      (JSON.parse(text) as { rows: Record<string, unknown>[] }).rows.map(
        ({ seconds: _s, accesses_per_second: _a, ...row }) => row,
      );
    expect(strip(traced.stdout)).toEqual(strip(plain.stdout));
    const trace = JSON.parse(readFileSync(out, 'utf8')) as {
      traceEvents: (Ev & { pid: number; args?: Record<string, unknown> })[];
    };
    expect(nestingProblems(trace.traceEvents)).toEqual([]);
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.args?.name);
    expect(names).toContain('pmem under keys, seed 1 (x86)');
    expect(names.some((n) => String(n).startsWith('pgtable under vkeys, seed 1 ('))).toBe(true);
    // 5 schemes (off, keys, pagetable, vkeys, capability) x 3 campaigns, one machine each.
    expect(names).toHaveLength(15);
    expect(new Set(trace.traceEvents.map((e) => e.pid)).size).toBe(names.length);
  });
});

/** B/E pairs per (pid, tid) that do not nest, or are left open. */
function nestingProblems(events: readonly (Ev & { pid: number })[]): string[] {
  const stacks = new Map<string, string[]>();
  const problems: string[] = [];
  for (const e of events) {
    const key = `${e.pid}/${e.tid}`;
    const stack = stacks.get(key) ?? [];
    stacks.set(key, stack);
    if (e.ph === 'B') stack.push(e.name);
    if (e.ph === 'E' && stack.pop() !== e.name) problems.push(`${key}: ${e.name} closes out of order`);
  }
  for (const [key, stack] of stacks) if (stack.length) problems.push(`${key}: left open`);
  return problems;
}
