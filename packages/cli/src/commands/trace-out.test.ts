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
});
