import { createMemoryIo } from '../src/io';
import { main } from '../src/main';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout split into lines, without the final empty string. */
  lines: string[];
}

/** Run `pkeysim <args>` in-process with in-memory streams. */
export async function runCli(
  args: string[],
  options: { stdin?: string; env?: Record<string, string | undefined>; isTTY?: boolean; cwd?: string } = {},
): Promise<CliRun> {
  const memory = createMemoryIo(options);
  const code = await main(args, memory.io);
  const stdout = memory.stdout();
  return {
    code,
    stdout,
    stderr: memory.stderr(),
    lines: stdout.split('\n').filter((l, i, all) => i < all.length - 1 || l !== ''),
  };
}

/** The start of an ANSI escape sequence (colour codes). */
export const ANSI_ESCAPE = new RegExp(String.fromCharCode(0x1b) + '\\[');
