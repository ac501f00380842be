import type { OutputStream } from './io';

/**
 * A one-line progress bar for long commands: drawn on a terminal only (a pipe or file gets nothing),
 * redrawn in place with a carriage return, and erased when done so the result starts on a clean line.
 */
export class ProgressBar {
  private readonly enabled: boolean;
  private drawn = false;

  constructor(
    private readonly stream: OutputStream,
    private readonly total: number,
    private readonly width = 24,
  ) {
    this.enabled = stream.isTTY === true && total > 0;
  }

  /** Show `done` of `total` steps, with what is running now. */
  update(done: number, label: string): void {
    if (!this.enabled) return;
    const filled = Math.round((Math.min(done, this.total) / this.total) * this.width);
    const bar = '#'.repeat(filled) + '-'.repeat(this.width - filled);
    const columns = this.stream.columns ?? 80;
    const line = `[${bar}] ${done}/${this.total} ${label}`.slice(0, Math.max(columns - 1, 10));
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  /** Erase the bar. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
