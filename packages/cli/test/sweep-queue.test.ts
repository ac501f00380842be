// The Redis queue end to end with real parts: a real redis-server on a loopback port (installed by
// tools/ensure-system-deps.sh), two `pkeysim worker` processes from the built CLI, one killed with
// SIGKILL while it runs a point. Every point must be collected exactly once, equal to a local run.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const BIN = resolve(import.meta.dirname, '../bin/pkeysim.js');
const children: ChildProcess[] = [];
let dir: string;
let url: string;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Resolve once something accepts connections on the port; give up after `ms`. */
async function listening(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((done) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), done(true)));
      s.once('error', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on port ${port} within ${ms} ms`);
}

function start(command: string, args: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, stderr: () => text };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((done) => child.once('exit', () => done()));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkeysim-queue-'));
  const port = await freePort();
  start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await listening(port, 10_000);
  url = `redis://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(children.map(exited));
  rmSync(dir, { recursive: true, force: true });
});

describe('pkeysim sweep --queue with pkeysim worker', () => {
  it('collects every point exactly once, equal to a local run, when a worker is killed mid-point', async () => {
    const spec = join(dir, 'study.yaml');
    writeFileSync(
      spec,
      'campaigns: [pmem, ro-at-rest]\nschemes: [x86, vkeys]\nmodes: [strict]\ncpus: [4]\nseeds: 1..4\n',
    );
    const workerArgs = (name: string) => [
      BIN,
      'worker',
      '--queue',
      url,
      '--workers',
      '1',
      '--name',
      name,
      '--lock-ms',
      '1000',
    ];
    const out = join(dir, 'queue.jsonl');
    const a = start(process.execPath, workerArgs('A'));
    const sweep = runCli(['sweep', spec, '--queue', url, '-o', out, '--no-report']);

    // Once A reports starting a point it holds that job's lock: start B, and kill A right then, mid-point.
    let killedKey: string | undefined;
    for (let i = 0; i < 6000 && killedKey === undefined; i++) {
      killedKey = /started ([0-9a-f]+)/.exec(a.stderr())?.[1];
      if (killedKey === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(killedKey, `worker A never started a point:\n${a.stderr()}`).toBeDefined();
    const b = start(process.execPath, workerArgs('B'));
    a.child.kill('SIGKILL');
    await exited(a.child);

    // Bounded: a stuck collection fails with the workers' logs instead of a bare timeout.
    let timer: NodeJS.Timeout | undefined;
    const run = await Promise.race([
      sweep,
      new Promise<never>((_, fail) => {
        timer = setTimeout(
          () => fail(new Error(`sweep did not finish in 60 s\nA:\n${a.stderr()}\nB:\n${b.stderr()}`)),
          60_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(a.child.signalCode).toBe('SIGKILL');
    expect(a.stderr()).not.toContain(`finished ${killedKey}`);
    expect(b.stderr()).toContain(`started ${killedKey}`);

    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    const keys = lines.map((l) => JSON.parse(l).key as string);
    expect(lines).toHaveLength(16);
    expect(new Set(keys).size).toBe(16);
    expect(keys).toContain(killedKey);

    const local = join(dir, 'local.jsonl');
    expect((await runCli(['sweep', spec, '--workers', '1', '-o', local, '--no-report'])).code).toBe(0);
    expect([...lines].sort()).toEqual(readFileSync(local, 'utf8').split('\n').filter(Boolean).sort());

    b.child.kill('SIGTERM');
    await exited(b.child);
    expect(b.stderr()).toMatch(/worker stopped after \d+ points/);
  }, 120_000);
});
