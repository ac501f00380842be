import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printingCommands, replayInputs } from './printing-commands';

/*
 * The built CLI in a child process, against real failing file descriptors: /dev/full (every write
 * ENOSPC), a pipe its reader closes (`| head`), and a file-size limit (EFBIG). `npm test` builds the
 * package first (nx: test dependsOn build); run `npm run build` before running this file alone.
 */
const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'pkeysim.js');
const inputs = replayInputs();
const scratch = mkdtempSync(join(tmpdir(), 'pkeysim-proc-'));
afterAll(() => {
  rmSync(inputs.dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

beforeAll(() => {
  const built = join(root, 'dist', 'index.js');
  if (!existsSync(built)) throw new Error('packages/cli/dist is missing: run `npm run build` in packages/cli first');
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  if (newest(join(root, 'src')) > statSync(built).mtimeMs)
    throw new Error('packages/cli/dist is older than src: run `npm run build` in packages/cli first');
});

const quote = (args: string[]) => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
const commands = Object.entries(printingCommands(inputs));

describe('pkeysim with stdout on a full disk (/dev/full)', () => {
  it.each(commands)('%s: exit 1 and one line naming stdout and ENOSPC', { timeout: 60_000 }, (_name, args) => {
    const full = openSync('/dev/full', 'w');
    try {
      const run = spawnSync(process.execPath, [bin, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
      expect(run.stderr).toBe('pkeysim: cannot write stdout: no space left on device (ENOSPC)\n');
      expect(run.status).toBe(1);
    } finally {
      closeSync(full);
    }
  });

  it.each([
    ['selftest', 'pks', '--tap'],
    ['campaign', 'pmem', '--seed', '1', '--json'],
    ['check', '--sample', '--json'],
  ])('%s %s %s: the same with --tap and --json', { timeout: 60_000 }, (...args) => {
    const full = openSync('/dev/full', 'w');
    try {
      const run = spawnSync(process.execPath, [bin, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stderr).toBe('pkeysim: cannot write stdout: no space left on device (ENOSPC)\n');
    } finally {
      closeSync(full);
    }
  });
});

describe('pkeysim piped into a reader that stops early (| head -n 1)', () => {
  it.each(commands)('%s: quiet, exit 0', { timeout: 60_000 }, (_name, args) => {
    const script = `${quote([process.execPath, bin, ...args])} | head -n 1 > /dev/null; echo "exit=\${PIPESTATUS[0]}"`;
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('exit=0\n');
  });
});

describe('the installed command in a pipeline', () => {
  it("campaign --json | node -e 'JSON.parse(...)': stdout is one JSON document", { timeout: 60_000 }, () => {
    const parse = `process.stdout.write(JSON.parse(require('fs').readFileSync(0, 'utf8')).schema)`;
    const script = `set -o pipefail; ${quote([process.execPath, bin, 'campaign', 'pmem', '--seed', '1', '--json'])} | ${quote([process.execPath, '-e', parse])}`;
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('pkeysim.campaign/1');
  });
});

describe('-o FILE on a file that cannot grow (ulimit -f: EFBIG)', () => {
  it(
    'exit 1, one line naming the file, and the previous file untouched with no temporary left',
    { timeout: 60_000 },
    () => {
      const dir = mkdtempSync(join(scratch, 'efbig-'));
      const file = join(dir, 'out.jsonl');
      writeFileSync(file, 'previous\n');
      // 8 KiB: the sample's output (about 40 KB) cannot fit.
      const script = `ulimit -f 8; exec ${quote([process.execPath, bin, 'check', '--sample', '-o', file])}`;
      const run = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(`pkeysim: cannot write ${file}: file too large (EFBIG)\n`);
      expect(readFileSync(file, 'utf8')).toBe('previous\n');
      expect(readdirSync(dir)).toEqual(['out.jsonl']);
    },
  );

  it('within the limit the same command writes the whole report', { timeout: 60_000 }, () => {
    const file = join(scratch, 'fits.txt');
    const script = `ulimit -f 8; exec ${quote([process.execPath, bin, 'keys', '-o', file])}`;
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/DEFAULT/);
  });
});
