import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { SweepPoint, SweepRecord } from './point';

/** Most worker threads one pool may have. */
export const MAX_WORKERS = 256;

/** The default pool size: one worker thread per core. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * What each worker thread loads: this package's own built entry (dist/index.js, or index.cjs when
 * loaded through require), whose `runPointTask` export runs a point. From the sources (tests run
 * them through vitest), the package's dist build: worker threads run plain JavaScript.
 */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (/[\\/]dist[\\/]index\.c?js$/.test(here)) return pathToFileURL(here).href;
  const built = join(dirname(here), '..', 'dist', 'index.js');
  if (existsSync(built)) return pathToFileURL(built).href;
  throw new Error('the sweep package is not built: run `npm run build` in packages/sweep');
}

/** A pool of worker threads, each running one point at a time through the campaign harness. */
export class PointPool {
  private readonly pool: Piscina;

  constructor(readonly workers: number = defaultWorkers()) {
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS)
      throw new RangeError(`workers must be a whole number from 1 to ${MAX_WORKERS}`);
    this.pool = new Piscina({
      filename: workerFile(),
      name: 'runPointTask',
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 1000,
    });
  }

  /** Run one point on a free thread; rejects with an AbortError if `signal` aborts first. */
  run(point: SweepPoint, signal?: AbortSignal): Promise<SweepRecord> {
    return this.pool.run(point, { signal }) as Promise<SweepRecord>;
  }

  /** Stop the worker threads. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
