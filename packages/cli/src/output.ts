import type { OutputStream } from './io';

/**
 * Writes lines to a stream with backpressure, so streaming a huge input keeps memory constant:
 * when the stream's buffer is full, `line` waits for 'drain'. When the reader goes away (EPIPE, as in
 * `pkeysim check big.jsonl | head`), it stops writing quietly and `closed` turns true, so the
 * producer can stop too instead of crashing with an unhandled stream error.
 */
export class LineWriter {
  private isClosed = false;
  private readonly onError = () => {
    this.isClosed = true;
  };

  constructor(private readonly stream: OutputStream) {
    stream.on('error', this.onError);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async line(text: string): Promise<void> {
    if (this.isClosed) return;
    if (!this.stream.write(`${text}\n`)) await this.drained();
  }

  /** Stop listening to the stream (it outlives the writer when it is process.stdout). */
  release(): void {
    this.stream.off('error', this.onError);
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
