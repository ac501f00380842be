import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/run-cli';

const dir = mkdtempSync(join(tmpdir(), 'pkeysim-replay-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// A fetch, a load and two stores to the stack page, one store elsewhere.
const TRACE = [
  '==77== Lackey, an example Valgrind tool',
  'I  00401000,4',
  ' L 1fff000ff8,8',
  ' S 1fff000ff0,8',
  ' S 1fff000fe8,8',
  ' S 00601000,8',
  '',
].join('\n');
const trace = file('trace.lackey', TRACE);
const policyText = (rights: string) =>
  JSON.stringify({ domains: [{ name: 'stack', rights, ranges: [{ start: '0x1fff000000', size: '4K' }] }] }, null, 2);
const readOnlyStack = file('read-only.json', policyText('r'));
const openStack = file('open.json', policyText('rw'));

describe('pkeysim replay', () => {
  it('prints accesses and faults per domain and the first faults', async () => {
    const run = await runCli(['replay', trace, '--policy', readOnlyStack]);
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      'Replayed 5 accesses (1 fetch, 1 load, 3 stores, 0 modifies) from 6 lines.',
      '0 rights changes applied; 2 accesses would fault.',
      '',
      'domain   rights  fetches  loads  stores  modifies  faults  ranges',
      'default  rwx           1      0       1         0       0  (all other addresses)',
      'stack    r--           0      1       2         0       2  0x1fff000000-0x1fff001000',
      '',
      'Faults:',
      '  access  kind   address       size  domain  rights',
      '      #2  store  0x1fff000ff0     8  stack   r--',
      '      #3  store  0x1fff000fe8     8  stack   r--',
    ]);
  });

  it('--json prints the report as one JSON object', async () => {
    const run = await runCli(['replay', trace, '--policy', readOnlyStack, '--json']);
    expect(run.code).toBe(0);
    expect(run.lines).toHaveLength(1);
    const report = JSON.parse(run.stdout) as {
      accesses: number;
      faults: number;
      domains: { name: string; faults: { store: number } }[];
    };
    expect(report.accesses).toBe(5);
    expect(report.faults).toBe(2);
    expect(report.domains[1]).toMatchObject({ name: 'stack', faults: { store: 2 } });
  });

  it('reads the trace from stdin with "-"', async () => {
    const run = await runCli(['replay', '-', '--policy', readOnlyStack, '--json'], { stdin: TRACE });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { faults: number }).faults).toBe(2);
  });

  it('--first limits the listed faults', async () => {
    const run = await runCli(['replay', trace, '--policy', readOnlyStack, '--json', '--first', '1']);
    expect((JSON.parse(run.stdout) as { firstFaults: unknown[] }).firstFaults).toHaveLength(1);
  });

  it('--fail-on-fault exits 1 when an access would fault and 0 when none does', async () => {
    expect((await runCli(['replay', trace, '--policy', readOnlyStack, '--fail-on-fault'])).code).toBe(1);
    expect((await runCli(['replay', trace, '--policy', openStack, '--fail-on-fault'])).code).toBe(0);
  });

  it('names the policy file, line and field of a bad policy in one line, exit 2', async () => {
    const bad = file('bad.json', policyText('rq'));
    const run = await runCli(['replay', trace, '--policy', bad]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `pkeysim: ${bad}:5:7: domains[0].rights: rights "rq" must be letters from r, w, x (or "none")\n`,
    );
  });

  it('names the trace file and line of a malformed record, exit 2', async () => {
    const broken = file('broken.lackey', 'I  00401000,4\n L nothex,8\n');
    const run = await runCli(['replay', broken, '--policy', openStack]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`pkeysim: ${broken}:2: expected a hexadecimal address: " L nothex,8"\n`);
  });

  it('--skip-malformed counts malformed lines and replays the rest', async () => {
    const broken = file('broken-skip.lackey', 'I  00401000,4\n L nothex,8\n S 1fff000ff0,8\n');
    const run = await runCli(['replay', broken, '--policy', readOnlyStack, '--skip-malformed', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ accesses: 2, faults: 1, trace: { malformedLines: 1 } });
  });

  it('says which file cannot be read, exit 2', async () => {
    const missing = join(dir, 'missing.lackey');
    const run = await runCli(['replay', missing, '--policy', openStack]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`pkeysim: cannot read ${missing}: no such file\n`);
    const noPolicy = await runCli(['replay', trace, '--policy', join(dir, 'missing.json')]);
    expect(noPolicy.stderr).toBe(`pkeysim: cannot read ${join(dir, 'missing.json')}: no such file\n`);
  });

  it('refuses a missing --policy and a bad --first in one line, exit 2', async () => {
    const noPolicy = await runCli(['replay', trace]);
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toMatch(/^pkeysim: .*--policy.*\n$/);
    const badFirst = await runCli(['replay', trace, '--policy', openStack, '--first', 'ten']);
    expect(badFirst.code).toBe(2);
    expect(badFirst.stderr).toBe('pkeysim: --first must be a whole number >= 0, got "ten"\n');
  });
});

// Thread 1 fetches from and stores to the stack page; thread 2 stores to it.
const threadTrace = file(
  'threads.lackey',
  ['==77== Lackey', 'I  1fff000000,4', ' S 1fff000ff0,8', 'T 2', ' S 1fff000fe8,8', ''].join('\n'),
);
const policy = (rights: string, name: string) => file(name, policyText(rights));

describe('pkeysim replay --arch', () => {
  it('replays on x86: keys in PKRU, per-thread rights, fetches never checked against a key', async () => {
    const run = await runCli(['replay', threadTrace, '--policy', policy('x', 'closed.json'), '--arch', 'x86']);
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
      threadTrace,
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
    const run = await runCli(['replay', threadTrace, '--policy', writeOnly, '--arch', 'x86']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `pkeysim: ${writeOnly}:5:7: domains[0].rights: x86 cannot give domain "stack" (PKRU domain 1) rights "-w-": ` +
        'PKRU can deny only access and write (AD/WD), not execute or read alone; expressible: rwx, --x, r-x\n',
    );
    // The same policy is fine on POWER, whose AMR and IAMR deny loads, stores and fetches separately.
    expect((await runCli(['replay', threadTrace, '--policy', writeOnly, '--arch', 'power'])).code).toBe(0);
  });

  it('refuses an architecture without user-page domains and an unknown one, exit 2', async () => {
    const open = policy('rwx', 'open.json');
    const capability = await runCli(['replay', threadTrace, '--policy', open, '--arch', 'capability']);
    expect(capability.code).toBe(2);
    expect(capability.stderr).toMatch(
      /^pkeysim: --arch capability: capability has no protection domains for user pages/,
    );
    const unknown = await runCli(['replay', threadTrace, '--policy', open, '--arch', 'mips']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no architecture or scheme plugin named 'mips'/);
  });
});
