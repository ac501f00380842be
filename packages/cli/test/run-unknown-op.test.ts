import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

describe('pkeysim run: an op the runner does not know', () => {
  it('is one line naming the file, line and field, exit 2 (never silently skipped)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pkeysim-op-')), 'op.yaml');
    writeFileSync(
      file,
      'threads:\n  - name: t\n    program:\n      - { op: yield }\n      - { op: pkey_frob, key: 1 }\n',
    );
    const run = await runCli(['run', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^pkeysim: .*op\.yaml:5: threads\[0\]\.program\[1\]\.op: unknown op "pkey_frob"/);
  });
});
