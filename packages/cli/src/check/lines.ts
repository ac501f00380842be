import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileReadError } from '../errors';

/** Where vectors come from: a label for messages and the stream itself. */
export interface LineSource {
  /** The file name as the user gave it, or `<stdin>`. */
  readonly label: string;
  readonly stream: NodeJS.ReadableStream;
  /** True when we opened the stream and must close it (never stdin). */
  readonly owned: boolean;
}

export const STDIN_LABEL = '<stdin>';

/**
 * A file, opened when first read. Opened earlier, a file that cannot be opened errors before anyone
 * listens: the error is uncaught and readline then waits forever (`check MISSING -o FILE` hung while
 * the report file opened).
 */
export function fileSource(path: string): LineSource {
  let stream: NodeJS.ReadableStream | undefined;
  return {
    label: path,
    owned: true,
    get stream() {
      return (stream ??= createReadStream(path));
    },
  };
}

export function stdinSource(stdin: NodeJS.ReadableStream): LineSource {
  return { label: STDIN_LABEL, stream: stdin, owned: false };
}

export interface NumberedLine {
  /** 1-based, counting blank lines too, so it matches an editor's line numbers. */
  readonly number: number;
  readonly text: string;
}

/**
 * The source's lines, one at a time (readline pauses the stream while the consumer is busy, so
 * memory stays constant). A failure to open or read becomes a {@link UsageError} naming the file;
 * errors thrown by the consumer are not touched.
 */
export async function* numberedLines(source: LineSource): AsyncGenerator<NumberedLine> {
  const reader = createInterface({ input: source.stream, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of reader) {
      number++;
      // A UTF-8 byte order mark is not part of the first line's JSON.
      yield { number, text: number === 1 ? line.replace(/^\uFEFF/, '') : line };
    }
  } catch (error) {
    throw fileReadError(source.label, error);
  } finally {
    reader.close();
    if (source.owned) (source.stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
  }
}
