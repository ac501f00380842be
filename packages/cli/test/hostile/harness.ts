import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { type CliRun, runCli } from '../run-cli';

/** A frame of a JavaScript stack trace ("    at foo (file.js:1:2)"). */
export const STACK_FRAME = /\n\s+at .+[:(]/;

const dir = mkdtempSync(join(tmpdir(), 'pkeysim-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write a generated input file into this suite's temporary directory and return its path. */
export function inputFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export interface HostileBounds {
  /** Wall-clock bound for the whole command, in ms. */
  readonly ms?: number;
  /** Lines allowed on stderr (default 1: one diagnostic line). */
  readonly stderrLines?: number;
  /** Allowed exit codes (default 0, 1 or 2). */
  readonly codes?: readonly number[];
  readonly stdin?: string;
  /** Heap in use after the run, in MB (default 400). */
  readonly heapMb?: number;
}

/**
 * Run `pkeysim <args>` on hostile input and assert what the CLI promises for any input: exit 0, 1
 * or 2 (never 3, the "bug in pkeysim" code), at most `stderrLines` lines on stderr, no stack
 * trace, no raw escape byte on stderr, and an answer within the time and heap bounds.
 */
export async function expectHostile(args: string[], bounds: HostileBounds = {}): Promise<CliRun> {
  const start = performance.now();
  const run = await runCli(args, { stdin: bounds.stdin });
  const ms = performance.now() - start;
  const stderrLines = run.stderr.split('\n').filter((l) => l !== '');
  expect(bounds.codes ?? [0, 1, 2], `exit code, stderr: ${run.stderr.slice(0, 500)}`).toContain(run.code);
  expect(stderrLines.length, run.stderr.slice(0, 2000)).toBeLessThanOrEqual(bounds.stderrLines ?? 1);
  expect(run.stderr).not.toMatch(STACK_FRAME);
  expect(run.stdout).not.toMatch(STACK_FRAME);
  expect(run.stderr).not.toMatch(/Maximum call stack|internal error/);
  expect(run.stderr).not.toContain(String.fromCharCode(0x1b));
  expect(ms, `took ${Math.round(ms)} ms`).toBeLessThan(bounds.ms ?? 5000);
  // The memory bound: whatever the input, the heap stays within a few hundred MB.
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  expect(heapMb, `heap ${Math.round(heapMb)} MB after the run`).toBeLessThan(bounds.heapMb ?? 400);
  return run;
}
