import { isBrokenPipe, OutputError } from './errors';
import type { OutputStream } from './io';

/**
 * Watches stdout for the whole of one `main` call, so output no command wrote through a
 * {@link LineWriter} (help text, the version) cannot fail silently either. `settle` waits until
 * what was written has left the buffer and returns the write error, if any; EPIPE is not one.
 */
export class StdoutWatch {
  private failure: unknown;
  private failed = false;
  private acknowledged = false;
  private readonly onError = (error: unknown) => {
    if (this.failed) return;
    this.failed = true;
    this.failure = error;
  };

  constructor(private readonly stream: OutputStream) {
    stream.on('error', this.onError);
  }

  /** The failure was already reported (a command's writer threw {@link OutputError} for it). */
  acknowledge(): void {
    this.acknowledged = true;
  }

  async settle(): Promise<OutputError | undefined> {
    const stream = this.stream as OutputStream & { writableLength?: number };
    if (!this.failed && (stream.writableLength ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('error', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('error', done);
        stream.on('close', done);
      });
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.stream.off('error', this.onError);
    if (!this.failed || this.acknowledged || isBrokenPipe(this.failure)) return undefined;
    return new OutputError('stdout', this.failure);
  }
}
