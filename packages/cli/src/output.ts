import { isBrokenPipe, OutputError } from './errors';
import type { OutputStream } from './io';

/**
 * Writes lines to a stream with backpressure, so streaming a huge input keeps memory constant:
 * when the stream's buffer is full, `line` waits for 'drain'.
 *
 * Every write is watched. When one fails, the writer stops writing and `closed` turns true, so the
 * producer can stop too instead of crashing with an unhandled stream error. {@link finish} then
 * tells the two failures apart: the reader went away (EPIPE, as in `pkeysim check big.jsonl | head`)
 * is quiet; anything else (ENOSPC on a full disk, EIO, EBADF) throws {@link OutputError}, which
 * `main` turns into one line on stderr and a non-zero exit.
 */
export class LineWriter {
  private failure: unknown;
  private failed = false;
  private pending = 0;
  private idle: (() => void) | undefined;
  private readonly onError = (error: unknown) => this.fail(error);

  /** `destination` names the stream in the error line: "stdout" or a file path. */
  constructor(
    private readonly stream: OutputStream,
    readonly destination = 'stdout',
  ) {
    stream.on('error', this.onError);
  }

  get closed(): boolean {
    return this.failed;
  }

  /** The write error that closed the writer, if any. */
  get error(): unknown {
    return this.failure;
  }

  /** Write `text` and a newline; waits for 'drain' when the stream's buffer is full, and does nothing once the writer is closed. */
  async line(text: string): Promise<void> {
    if (this.failed) return;
    this.pending++;
    let accepted: boolean;
    try {
      accepted = this.stream.write(`${text}\n`, (error?: Error | null) => this.written(error));
    } catch (error) {
      // Some streams throw instead of calling back (a synchronous file write on a full disk).
      this.pending--;
      this.fail(error);
      return;
    }
    if (!accepted && !this.failed) await this.drained();
  }

  /**
   * Wait until every line has reached the stream, stop listening to it (it outlives the writer when
   * it is process.stdout), and throw {@link OutputError} if a write failed for any reason but EPIPE.
   */
  async finish(): Promise<void> {
    if (this.pending > 0 && !this.failed) await new Promise<void>((resolve) => (this.idle = resolve));
    // Errors are emitted on a later tick than the failed write's callback; let them arrive.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.release();
    if (this.failed && !isBrokenPipe(this.failure)) throw new OutputError(this.destination, this.failure);
  }

  /** Stop listening to the stream without checking for errors. */
  release(): void {
    this.stream.off('error', this.onError);
  }

  private written(error: Error | null | undefined): void {
    this.pending--;
    if (error) this.fail(error);
    if (this.pending === 0 || this.failed) this.wake();
  }

  private fail(error: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.failure = error;
    }
    this.wake();
  }

  private wake(): void {
    const idle = this.idle;
    this.idle = undefined;
    idle?.();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
      this.stream.on('close', done);
    });
  }
}
