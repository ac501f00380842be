import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SAMPLE_VECTORS_PATH } from '@pkeysim/x86/vectors';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputError } from '../src/errors';
import { createMemoryIo } from '../src/io';
import { main } from '../src/main';
import { LineWriter } from '../src/output';
import { EXAMPLES, printingCommands, replayInputs } from './printing-commands';
import { runCli } from './run-cli';

const inputs = replayInputs();
const scratch = mkdtempSync(join(tmpdir(), 'pkeysim-o-'));
afterAll(() => {
  rmSync(inputs.dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** A stdout whose writes fail from the `after`-th on with `code`, as a full disk or a closed pipe does. */
function failingStream(code: string, after = 0): Writable & { accepted: number } {
  const stream = new Writable({
    write(_chunk, _encoding, done) {
      if (stream.accepted >= after) return done(Object.assign(new Error(`write ${code}`), { code }));
      stream.accepted++;
      done();
    },
  }) as Writable & { accepted: number };
  stream.accepted = 0;
  return stream;
}

async function runWithStdout(args: string[], stdout: Writable) {
  const memory = createMemoryIo();
  const code = await main(args, { ...memory.io, stdout });
  return { code, stderr: memory.stderr() };
}

describe('LineWriter', () => {
  it('throws OutputError naming the destination when a write fails', async () => {
    const out = new LineWriter(failingStream('ENOSPC', 2), 'report.txt');
    for (let i = 0; i < 5; i++) await out.line(`line ${i}`);
    expect(out.closed).toBe(true);
    const error = await out.finish().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).message).toBe('cannot write report.txt: no space left on device (ENOSPC)');
  });

  it('finishes quietly when the reader went away (EPIPE)', async () => {
    const out = new LineWriter(failingStream('EPIPE', 1));
    for (let i = 0; i < 5; i++) await out.line(`line ${i}`);
    expect(out.closed).toBe(true);
    await expect(out.finish()).resolves.toBeUndefined();
  });

  it('catches a stream that throws from write instead of calling back', async () => {
    const throwing = new Writable({ write: (_c, _e, done) => done() });
    throwing.write = () => {
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    };
    const out = new LineWriter(throwing);
    await out.line('x');
    await expect(out.finish()).rejects.toThrow('cannot write stdout: input/output error (EIO)');
  });
});

describe('a failed write to stdout fails the run', () => {
  const commands = Object.entries(printingCommands(inputs));

  it.each(commands)('%s: one line naming stdout and the error, exit 1', { timeout: 60_000 }, async (_name, args) => {
    const run = await runWithStdout(args, failingStream('ENOSPC'));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('pkeysim: cannot write stdout: no space left on device (ENOSPC)\n');
  });

  it.each([
    ['EIO', 'input/output error'],
    ['EBADF', 'bad file descriptor'],
  ])('%s after some lines is one line too, exit 1', async (code, reason) => {
    const run = await runWithStdout(['selftest', 'pkeys'], failingStream(code, 3));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`pkeysim: cannot write stdout: ${reason} (${code})\n`);
  });

  it('bad input still wins: a malformed scenario is exit 2 whatever stdout does', async () => {
    const bad = join(scratch, 'bad.yaml');
    writeFileSync(bad, 'threads: 3\n');
    const run = await runWithStdout(['run', bad], failingStream('ENOSPC'));
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/cannot write/);
  });

  it('bad input found after output began still exits 2, and the write error is named too', async () => {
    const vectors = join(scratch, 'mixed.jsonl');
    const first = readFileSync(SAMPLE_VECTORS_PATH, 'utf8').split('\n')[0];
    writeFileSync(vectors, `${first}\nnot json\n`);
    // The vector's line gets through; the summary line after the malformed one hits the full disk.
    const run = await runWithStdout(['check', vectors, '--expect'], failingStream('ENOSPC', 1));
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')).toEqual([
      expect.stringMatching(/^pkeysim: .*mixed.jsonl:2: /),
      'pkeysim: cannot write stdout: no space left on device (ENOSPC)',
      '',
    ]);
  });

  it.each(commands)('%s: a closed pipe (EPIPE) is quiet and exits 0', { timeout: 60_000 }, async (_name, args) => {
    const run = await runWithStdout(args, failingStream('EPIPE', 1));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('-o, --output FILE', () => {
  const commands = Object.entries(printingCommands(inputs)).filter(([name]) => !['help', 'version'].includes(name));

  it.each(commands)(
    '%s -o FILE writes what stdout would have shown, and nothing to stdout',
    { timeout: 60_000 },
    async (name, args) => {
      if (name === 'demo') return; // timings differ between two runs; covered by the JSON case below
      const file = join(scratch, `${name.replace(' ', '-')}.out`);
      const direct = await runCli(args);
      const toFile = await runCli([...args, '-o', file]);
      expect(toFile.code).toBe(direct.code);
      expect(toFile.stdout).toBe('');
      expect(readFileSync(file, 'utf8')).toBe(direct.stdout);
    },
  );

  it('works with --json and "-o -" is stdout', async () => {
    const file = join(scratch, 'demo.json');
    const run = await runCli(['demo', '--runs', '1', '--json', '--output', file]);
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ schema: 'pkeysim.demo/1' });
    const dash = await runCli(['keys', '--json', '-o', '-']);
    expect(JSON.parse(dash.stdout)).toMatchObject({ schema: 'pkeysim.keys/1' });
  });

  it('a failed check still writes its report (exit 1), since the report says what failed', async () => {
    const file = join(scratch, 'legacy.tap');
    const run = await runCli(['selftest', 'pks', '--entry', 'legacy-rfc-v1', '--tap', '-o', file]);
    expect(run.code).toBe(1);
    expect(readFileSync(file, 'utf8')).toMatch(/^not ok \d+ RUN_EXCEPTION$/m);
  });

  it('a run that fails on bad input leaves the file as it was and no temporary file', async () => {
    const dir = mkdtempSync(join(scratch, 'keep-'));
    const file = join(dir, 'report.txt');
    writeFileSync(file, 'the previous report\n');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'threads: 3\n');
    const run = await runCli(['run', bad, '-o', file]);
    expect(run.code).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe('the previous report\n');
    const unreadable = await runCli(['replay', join(dir, 'missing.lackey'), '--policy', inputs.policy, '-o', file]);
    expect(unreadable.code).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe('the previous report\n');
    expect(readdirSync(dir).sort()).toEqual(['bad.yaml', 'report.txt']);
  });

  it('a file that cannot be created is one line naming it, exit 1, before any work is done', async () => {
    const file = join(scratch, 'no-such-dir', 'out.txt');
    const run = await runCli(['keys', '-o', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`pkeysim: cannot write ${file}: no such file or directory (ENOENT)\n`);
    expect(run.stdout).toBe('');
    expect(existsSync(join(scratch, 'no-such-dir'))).toBe(false);
  });

  it('may name the input file: the input is read in full before the report replaces it', async () => {
    const file = join(scratch, 'scenario.yaml');
    writeFileSync(file, readFileSync(join(EXAMPLES, 'context-switch.yaml')));
    const run = await runCli(['run', file, '-o', file]);
    expect(run.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^scenario /);
  });

  it.each([
    ['check'],
    ['selftest', 'pks'],
    ['selftest', 'pkeys'],
    ['keys'],
    ['replay'],
    ['campaign'],
    ['run'],
    ['demo'],
  ])('is listed in the help of %s', async (...command) => {
    const help = await runCli([...command, '--help']);
    expect(help.stdout).toContain('-o, --output <file>');
  });
});
