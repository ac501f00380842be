import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/run-cli';

const dir = mkdtempSync(join(tmpdir(), 'pkeysim-replay-arch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// Thread 1 fetches from and stores to the stack page; thread 2 stores to it.
const trace = file(
  'threads.lackey',
  ['==77== Lackey', 'I  1fff000000,4', ' S 1fff000ff0,8', 'T 2', ' S 1fff000fe8,8', ''].join('\n'),
);
const policy = (rights: string, name: string) =>
  file(
    name,
    JSON.stringify({ domains: [{ name: 'stack', rights, ranges: [{ start: '0x1fff000000', size: '4K' }] }] }, null, 2),
  );

describe('pkeysim replay --arch', () => {
  it('replays on x86: keys in PKRU, per-thread rights, fetches never checked against a key', async () => {
    const run = await runCli(['replay', trace, '--policy', policy('x', 'closed.json'), '--arch', 'x86']);
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      'Replayed 3 accesses (1 fetch, 0 loads, 2 stores, 0 modifies) from 5 lines.',
      'On x86: user pages in x86.pku (PKRU), rights per thread; initial 0x55555554.',
      '2 threads in the trace.',
      '0 rights changes applied; 2 accesses would fault.',
      '',
      'domain   hw  rights  fetches  loads  stores  modifies  faults  ranges',
      'default   0  rwx           0      0       0         0       0  (all other addresses)',
      'stack     1  --x           1      0       2         0       2  0x1fff000000-0x1fff001000',
      '',
      'Faults:',
      '  access  kind   address       size  domain  rights  thread',
      '      #1  store  0x1fff000ff0     8  stack   --x          1',
      '      #2  store  0x1fff000fe8     8  stack   --x          2',
    ]);
  });

  it('--json carries the architecture, the architecture domains and the threads', async () => {
    const run = await runCli([
      'replay',
      trace,
      '--policy',
      policy('r', 'read-only.json'),
      '--arch',
      'arm64-poe',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      arch: { name: 'arm64-poe', space: 'arm64.por_el0', register: 'POR_EL0', scope: 'thread' },
      threads: 2,
      domains: [
        { name: 'default', archDomain: 0 },
        { name: 'stack', archDomain: 1 },
      ],
      // arm64 POE checks fetches against the overlay: "r" leaves out x.
      firstFaults: [
        { kind: 'fetch', thread: 1 },
        { kind: 'store', thread: 1 },
        { kind: 'store', thread: 2 },
      ],
    });
  });

  it('refuses a rule the architecture cannot express in one line naming file, line and field, exit 2', async () => {
    const writeOnly = policy('w', 'write-only.json');
    const run = await runCli(['replay', trace, '--policy', writeOnly, '--arch', 'x86']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `pkeysim: ${writeOnly}:5:7: domains[0].rights: x86 cannot give domain "stack" (PKRU domain 1) rights "-w-": ` +
        'PKRU can deny only access and write (AD/WD), not execute or read alone; expressible: rwx, --x, r-x\n',
    );
    // The same policy is fine on POWER, whose AMR and IAMR deny loads, stores and fetches separately.
    expect((await runCli(['replay', trace, '--policy', writeOnly, '--arch', 'power'])).code).toBe(0);
  });

  it('refuses an architecture without user-page domains and an unknown one, exit 2', async () => {
    const open = policy('rwx', 'open.json');
    const capability = await runCli(['replay', trace, '--policy', open, '--arch', 'capability']);
    expect(capability.code).toBe(2);
    expect(capability.stderr).toMatch(
      /^pkeysim: --arch capability: capability has no protection domains for user pages/,
    );
    const unknown = await runCli(['replay', trace, '--policy', open, '--arch', 'mips']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no architecture or scheme plugin named 'mips'/);
  });
});
