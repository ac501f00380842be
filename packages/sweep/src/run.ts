import { pointKey, type SweepPoint, type SweepRecord } from './point';
import { defaultWorkers, PointPool } from './pool';

/** Options for running sweep points locally on worker threads. */
export interface RunOptions {
  /** Worker threads (default: one per core). */
  readonly workers?: number;
  /** Keys already done (a resumed results file): those points are not run again. */
  readonly done?: ReadonlySet<string>;
  /** Called once per finished point, in completion order (write it out here). */
  readonly onRecord?: (record: SweepRecord) => void;
  /** Aborting stops handing out points and abandons the ones in flight; finished ones stay reported. */
  readonly signal?: AbortSignal;
}

/** How a local run ended: points run, points left, and whether it was interrupted. */
export interface RunOutcome {
  /** Points run now (not counting those already done). */
  readonly ran: number;
  /** Points that were still to run (0 unless interrupted). */
  readonly remaining: number;
  readonly interrupted: boolean;
}

/**
 * Run points on a worker-thread pool. At most twice as many points as threads are handed out at
 * once, so a huge sweep does not queue every point in memory; results come back in completion
 * order, which varies, but each record depends only on its point.
 */
export async function runPoints(points: readonly SweepPoint[], options: RunOptions = {}): Promise<RunOutcome> {
  const todo = points.filter((p) => !options.done?.has(pointKey(p)));
  if (todo.length === 0) return { ran: 0, remaining: 0, interrupted: false };
  const pool = new PointPool(Math.min(options.workers ?? defaultWorkers(), todo.length));
  const signal = options.signal;
  let next = 0;
  let ran = 0;
  const lane = async () => {
    while (next < todo.length && !signal?.aborted) {
      const point = todo[next++];
      let record: SweepRecord;
      try {
        record = await pool.run(point, signal);
      } catch (error) {
        if (signal?.aborted) return;
        throw error;
      }
      ran++;
      options.onRecord?.(record);
    }
  };
  try {
    await Promise.all(Array.from({ length: pool.workers * 2 }, lane));
  } finally {
    await pool.close();
  }
  const remaining = todo.length - ran;
  return { ran, remaining, interrupted: remaining > 0 };
}
