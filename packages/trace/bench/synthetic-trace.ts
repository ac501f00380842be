import { openSync, writeSync, closeSync } from 'node:fs';

/**
 * Writes a deterministic synthetic lackey trace shaped like a real program's: mostly sequential
 * instruction fetches in a small code region with occasional jumps, and data accesses after about
 * half of the instructions, to the stack, a heap and globals. Bytes are formatted straight into a
 * buffer, so generating 10 million records takes a few seconds.
 */

export const SYNTHETIC_LAYOUT = {
  code: { start: 0x401000, size: 0x8000 },
  stack: { start: 0x1ffeff0000, size: 0x10000 },
  heap: { start: 0x4a20000, size: 0x100000 },
  globals: { start: 0x60a000, size: 0x2000 },
} as const;

export function writeSyntheticTrace(path: string, accesses: number, seed = 0x9e3779b9): number {
  let state = seed >>> 0 || 1;
  // xorshift32: deterministic and fast.
  const random = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
  const fd = openSync(path, 'w');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let at = 0;
  let bytes = 0;
  const flushIfNear = () => {
    if (at > buffer.length - 128) {
      writeSync(fd, buffer, 0, at);
      bytes += at;
      at = 0;
    }
  };
  const text = (s: string) => {
    at += buffer.write(s, at, 'latin1');
  };
  const record = (prefix: string, address: number, size: number) => {
    flushIfNear();
    text(prefix);
    // lackey prints "%08lx,%lu".
    text(address.toString(16).padStart(8, '0'));
    buffer[at++] = 0x2c;
    text(String(size));
    buffer[at++] = 0x0a;
  };

  const { code, stack, heap, globals } = SYNTHETIC_LAYOUT;
  text('==4242== Lackey, an example Valgrind tool\n==4242== Command: ./synthetic\n==4242== \n');
  let pc: number = code.start;
  let rsp: number = stack.start + stack.size - 0x100;
  let written = 0;
  while (written < accesses) {
    const length = 1 + Math.floor(random() * 7);
    record('I  ', pc, length);
    written++;
    pc = random() < 0.05 ? code.start + Math.floor(random() * (code.size - 16)) : pc + length;
    if (pc >= code.start + code.size - 16) pc = code.start;
    if (written < accesses && random() < 0.45) {
      const where = random();
      const address =
        where < 0.5
          ? rsp - 8 * Math.floor(random() * 32)
          : where < 0.85
            ? heap.start + 8 * Math.floor(random() * (heap.size / 8 - 2))
            : globals.start + 8 * Math.floor(random() * (globals.size / 8 - 2));
      const kind = random();
      const sizePick = random();
      const size = sizePick < 0.7 ? 8 : sizePick < 0.85 ? 4 : sizePick < 0.95 ? 1 : 16;
      record(kind < 0.6 ? ' L ' : kind < 0.92 ? ' S ' : ' M ', address, size);
      written++;
      if (random() < 0.02) rsp = stack.start + 0x1000 + 8 * Math.floor(random() * ((stack.size - 0x1100) / 8));
    }
  }
  text('==4242== \n==4242== Counted 1 call to main()\n');
  writeSync(fd, buffer, 0, at);
  bytes += at;
  closeSync(fd);
  return bytes;
}
