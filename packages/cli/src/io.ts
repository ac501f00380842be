import { Writable, Readable } from 'node:stream';

/** A stream the CLI writes to; `isTTY` decides whether colour is used. */
export type OutputStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/**
 * Everything the CLI touches outside itself, injectable so tests run `main` in-process with fake
 * streams and a fake environment.
 */
export interface Io {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Environment variables (NO_COLOR). Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The working directory plugin paths and the config file are found from. Defaults to `process.cwd()`. */
  readonly cwd?: string;
}

/** The real process's stdin, stdout, stderr and environment. */
export function processIo(): Io {
  return {
    // Lazy: touching process.stdin opens it (a TTY or pipe handle), which `--version` and most
    // commands never need; only `replay -` and `run -` read it.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  };
}

/** An in-memory {@link Io} for tests: feed `stdin`, read back what was written. */
export interface MemoryIo {
  readonly io: Io;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** Create a MemoryIo with the given stdin text, environment, TTY flag and working directory. */
export function createMemoryIo(
  options: { stdin?: string; env?: Record<string, string | undefined>; isTTY?: boolean; cwd?: string } = {},
): MemoryIo {
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }) as Writable & { isTTY?: boolean };
    stream.isTTY = options.isTTY ?? false;
    return { stream, text: () => chunks.join('') };
  };
  const out = sink();
  const err = sink();
  return {
    io: {
      stdin: Readable.from([options.stdin ?? '']),
      stdout: out.stream,
      stderr: err.stream,
      env: options.env ?? {},
      cwd: options.cwd,
    },
    stdout: out.text,
    stderr: err.text,
  };
}
