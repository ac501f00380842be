import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { definePolicy, formatAddress, replayTraceFile, type ReplayReport } from '../src/index';

/**
 * Records a real program with valgrind's lackey tool and replays it. The expectations come from a
 * deliberately naive reading of the same file (split into lines, one regular expression), not from
 * the streaming parser under test. The project installs valgrind with tools/ensure-system-deps.sh; the
 * tests skip, saying so, only when it is not installed at all.
 */

const PROGRAM = '/bin/true';
const SKIP_REASON = 'valgrind is not installed (run tools/ensure-system-deps.sh)';
const valgrindInstalled =
  (spawnSync('valgrind', ['--version']).error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT';

interface NaiveRecord {
  index: number;
  kind: 'I' | 'L' | 'S' | 'M';
  address: number;
  size: number;
}

let dir: string | undefined;
let traceFile = '';
const records: NaiveRecord[] = [];

beforeAll(() => {
  if (!valgrindInstalled) return;
  dir = mkdtempSync(join(tmpdir(), 'pkeysim-lackey-'));
  traceFile = join(dir, 'true.lackey');
  const run = spawnSync('valgrind', ['--tool=lackey', '--trace-mem=yes', `--log-file=${traceFile}`, PROGRAM], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`valgrind failed (status ${run.status}): ${run.stderr}`);
  for (const line of readFileSync(traceFile, 'latin1').split('\n')) {
    const match = /^(?:(I) |\s([LSM])) +([0-9a-f]+),(\d+)$/.exec(line);
    if (match)
      records.push({
        index: records.length,
        kind: (match[1] ?? match[2]) as NaiveRecord['kind'],
        address: parseInt(match[3], 16),
        size: Number(match[4]),
      });
  }
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function requireValgrind(ctx: TestContext): void {
  if (!valgrindInstalled) ctx.skip(SKIP_REASON);
}

/**
 * The stack: the 8 MiB (the default stack limit) below the 1 MiB boundary above the first store.
 * A process's first store is the `call` in the dynamic loader's _start pushing a return address.
 */
function stackRange(): { start: number; end: number } {
  const firstStore = records.find((r) => r.kind === 'S')!;
  const end = (Math.floor(firstStore.address / 2 ** 20) + 1) * 2 ** 20;
  return { start: end - 8 * 2 ** 20, end };
}

const inRange = (r: NaiveRecord, range: { start: number; end: number }) =>
  r.address >= range.start && r.address < range.end;

async function replayWithStack(rights: string, changes: object[] = []): Promise<ReplayReport> {
  const { start, end } = stackRange();
  const policy = definePolicy({
    domains: [{ name: 'stack', rights, ranges: [{ start: formatAddress(start), end: formatAddress(end) }] }],
    changes,
  });
  return replayTraceFile(traceFile, policy, { firstFaults: 5 });
}

describe(`replaying valgrind lackey's trace of ${PROGRAM}`, () => {
  it('reads every access record of the real trace and skips valgrind messages', async (ctx) => {
    requireValgrind(ctx);
    const report = await replayWithStack('rw');
    expect(records.length).toBeGreaterThan(10_000);
    expect(report.accesses).toBe(records.length);
    expect(report.trace.messageLines).toBeGreaterThan(0);
    expect(report.trace.malformedLines).toBe(0);
    const fetches = records.filter((r) => r.kind === 'I').length;
    expect(report.domains[0].accesses.fetch + report.domains[1].accesses.fetch).toBe(fetches);
  });

  it('replays a trace recorded with --trace-superblocks=yes: the SB lines are no accesses and no errors', async (ctx) => {
    requireValgrind(ctx);
    const withSuperblocks = join(dir!, 'true-sb.lackey');
    const run = spawnSync(
      'valgrind',
      ['--tool=lackey', '--trace-mem=yes', '--trace-superblocks=yes', `--log-file=${withSuperblocks}`, PROGRAM],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const lines = readFileSync(withSuperblocks, 'latin1').split('\n');
    const superblocks = lines.filter((line) => /^SB [0-9a-f]+$/.test(line)).length;
    const accesses = lines.filter((line) => /^(?:I |\s[LSM]) +[0-9a-f]+,\d+$/.test(line)).length;
    expect(superblocks).toBeGreaterThan(1000);
    const policy = definePolicy({
      domains: [{ name: 'all', rights: 'rwx', ranges: [{ start: '0x0', size: 2 ** 47 }] }],
    });
    const report = await replayTraceFile(withSuperblocks, policy);
    expect(report.trace.malformedLines).toBe(0);
    expect(report.accesses).toBe(accesses);
  }, 120_000);

  it('finds no fault when the stack is open', async (ctx) => {
    requireValgrind(ctx);
    const report = await replayWithStack('rw');
    expect(report.faults).toBe(0);
    expect(report.domains[1].accesses.total).toBeGreaterThan(0);
  });

  it('faults every stack data access when the stack is access-disabled, starting with the first push', async (ctx) => {
    requireValgrind(ctx);
    const report = await replayWithStack('none');
    const stackData = records.filter((r) => r.kind !== 'I' && inRange(r, stackRange()));
    const stack = report.domains[1];
    expect(stack.accesses.fetch).toBe(0);
    expect(stack.accesses.load + stack.accesses.store + stack.accesses.modify).toBe(stackData.length);
    expect(report.faults).toBe(stackData.length);
    expect(stack.faults.total).toBe(stackData.length);
    const firstStore = records.find((r) => r.kind === 'S')!;
    expect(report.firstFaults[0]).toEqual({
      index: firstStore.index,
      kind: 'store',
      address: formatAddress(firstStore.address),
      size: firstStore.size,
      domain: 'stack',
      rights: '---',
    });
  });

  it('faults only the stack stores and modifies when the stack is read-only', async (ctx) => {
    requireValgrind(ctx);
    const report = await replayWithStack('r');
    const writes = records.filter((r) => (r.kind === 'S' || r.kind === 'M') && inRange(r, stackRange()));
    expect(writes.length).toBeGreaterThan(0);
    expect(report.faults).toBe(writes.length);
    expect(report.domains[1].faults.load).toBe(0);
  });

  it('faults only the stack accesses after the point where the policy closes it', async (ctx) => {
    requireValgrind(ctx);
    const closeAt = Math.floor(records.length / 2);
    const report = await replayWithStack('rw', [{ atAccess: closeAt, set: { stack: 'none' } }]);
    const after = records.filter((r) => r.index >= closeAt && r.kind !== 'I' && inRange(r, stackRange()));
    expect(after.length).toBeGreaterThan(0);
    expect(report.faults).toBe(after.length);
    expect(report.firstFaults[0].index).toBe(after[0].index);
    expect(report.rightsChanges).toBe(1);
  });

  it('faults the very first instruction fetch when its code page is not executable', async (ctx) => {
    requireValgrind(ctx);
    const first = records[0];
    expect(first.kind).toBe('I');
    const page = Math.floor(first.address / 4096) * 4096;
    const policy = definePolicy({
      domains: [{ name: 'entry', rights: 'rw', ranges: [{ start: formatAddress(page), size: '4K' }] }],
    });
    const report = await replayTraceFile(traceFile, policy, { firstFaults: 1 });
    const fetchesInPage = records.filter(
      (r) => r.kind === 'I' && r.address >= page && r.address + r.size <= page + 4096,
    ).length;
    expect(report.firstFaults[0]).toMatchObject({ index: 0, kind: 'fetch', domain: 'entry', rights: 'rw-' });
    expect(report.domains[1].faults.fetch).toBeGreaterThanOrEqual(fetchesInPage);
  });
});
