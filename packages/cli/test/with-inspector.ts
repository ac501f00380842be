import { expect } from 'vitest';
import { createMemoryIo } from '../src/io';
import { stopInspectors } from '../src/commands/inspect';
import { main } from '../src/main';

/** Start `pkeysim inspect` in-process, wait for its URL, hand it over, then stop it as Ctrl-C would (a real SIGINT would also reach playwright's handler). */
export async function withInspector<T>(
  args: string[],
  use: (url: string, stdout: () => string) => Promise<T>,
): Promise<T> {
  const memory = createMemoryIo();
  const exit = main(['inspect', ...args], memory.io);
  let url: string | undefined;
  for (let i = 0; i < 600 && !url; i++) {
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(memory.stdout())?.[0];
    if (!url) await new Promise((r) => setTimeout(r, 50));
  }
  if (!url) throw new Error(`no URL printed: ${memory.stderr()}`);
  try {
    return await use(url, memory.stdout);
  } finally {
    stopInspectors();
    await expect(exit).resolves.toBe(0);
  }
}
