import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/run-cli';
import { withInspector } from '../../test/with-inspector';

const EXAMPLE = resolve(import.meta.dirname, '../../../../examples/rfc-v1-interrupt.yaml');

describe('pkeysim inspect', () => {
  it('prints the URL on 127.0.0.1 and serves the page and the recorded run there', async () => {
    await withInspector([EXAMPLE, '--port', '0', '--no-open'], async (url, stdout) => {
      expect(stdout()).toContain('rfc-v1-interrupt-corruption');
      expect(await (await fetch(url)).text()).toContain('pkeysim inspector');
      const run = (await (await fetch(`${url}run.json`)).json()) as { timeline: { steps: unknown[]; arch: string } };
      expect(run.timeline.arch).toBe('x86');
      expect(run.timeline.steps.length).toBeGreaterThan(10);
    });
  });

  it('loads an event log saved with run --json (events only, no machine state)', async () => {
    const saved = await runCli(['run', EXAMPLE, '--json']);
    const file = join(mkdtempSync(join(tmpdir(), 'pkeysim-inspect-')), 'run.jsonl');
    writeFileSync(file, saved.stdout);
    await withInspector([file, '--port', '0', '--no-open'], async (url) => {
      const run = (await (await fetch(`${url}run.json`)).json()) as {
        timeline: { events: unknown[]; steps: unknown[]; name: string };
      };
      expect(run.timeline.name).toBe('rfc-v1-interrupt-corruption');
      expect(run.timeline.events.length).toBe(saved.lines.length - 2);
      expect(run.timeline.steps).toEqual([]);
    });
  });

  it('exits 2 with one line for a port that is taken', async () => {
    await withInspector([EXAMPLE, '--port', '0', '--no-open'], async (url) => {
      const port = new URL(url).port;
      const second = await runCli(['inspect', EXAMPLE, '--port', port, '--no-open']);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(new RegExp(`^pkeysim: port ${port} is in use`));
    });
  });

  it('exits 2 naming the file and line of a bad scenario, and for a port out of range', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pkeysim-inspect-')), 'bad.yaml');
    writeFileSync(file, 'threads:\n  - name: t\n    program:\n      - { op: fly }\n');
    const bad = await runCli(['inspect', file, '--no-open', '--port', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.yaml:4');
    const port = await runCli(['inspect', EXAMPLE, '--port', '70000']);
    expect(port.code).toBe(2);
  });
});
