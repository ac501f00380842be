import type { OutputStream } from './io';

/**
 * Progress of a sweep on stderr: points done, rate and ETA. On a terminal one line redrawn in
 * place; elsewhere (with --progress, e.g. a batch job's log) a plain line at most every 5 seconds.
 */
export class SweepProgress {
  private readonly started = performance.now();
  private lastLine = 0;
  private drawn = false;

  constructor(
    private readonly stream: OutputStream,
    private readonly total: number,
    private readonly enabled: boolean,
  ) {}

  update(done: number): void {
    if (!this.enabled || this.total === 0) return;
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? formatDuration((this.total - done) / rate) : '?';
    const pct = Math.floor((done / this.total) * 100);
    const text = `sweep: ${done}/${this.total} points (${pct}%), ${rate.toFixed(1)} points/s, ETA ${eta}`;
    if (this.stream.isTTY) {
      const width = 20;
      const filled = Math.round((done / this.total) * width);
      const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`;
      this.stream.write(`\r${line.slice(0, Math.max((this.stream.columns ?? 80) - 1, 10))}\x1b[K`);
      this.drawn = true;
    } else if (done === this.total || performance.now() - this.lastLine >= 5000) {
      this.stream.write(`${text}\n`);
      this.lastLine = performance.now();
    }
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** "1:05:09", "3:07", "0:04" */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
