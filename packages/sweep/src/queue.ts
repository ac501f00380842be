import { connect } from 'node:net';
import { hostname } from 'node:os';
import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';
import { pointKey, type SweepPoint, type SweepRecord } from './point';
import { PointPool } from './pool';

/** The BullMQ queue sweeps use unless told otherwise. */
export const DEFAULT_QUEUE_NAME = 'pkeysim-sweep';
/** How often the collector looks for finished points. */
const POLL_MS = 200;
/** Completed jobs read per Redis call while collecting. */
const PAGE = 500;

/**
 * Connection options from `redis://[:password@]host[:port][/db]`. BullMQ workers need
 * maxRetriesPerRequest null (they block on Redis); no offline queue, so a wrong address fails fast.
 */
export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`expected a Redis URL such as redis://127.0.0.1:6379 (got '${url}')`);
  }
  if (u.protocol !== 'redis:')
    throw new RangeError(`expected a Redis URL such as redis://127.0.0.1:6379 (got '${url}')`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new RangeError(`the Redis database in '${url}' must be a number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    db,
    maxRetriesPerRequest: null,
  };
}

/** How long to wait for Redis before giving up with a clear error. */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * Check that something listens at the Redis address before BullMQ connects: its client retries
 * forever on a refused connection (and cannot be closed before it connected), which would hang.
 */
export function probeRedis(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const { host, port } = redisConnection(url) as { host: string; port: number };
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new QueueUnreachable(`cannot reach Redis at ${url}: ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer in ${timeoutMs / 1000} s`));
    socket.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
  });
}

/** Wait until a BullMQ queue or worker has its Redis connection, or fail naming the URL. */
async function connected(client: { waitUntilReady(): Promise<unknown> }, url: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QueueUnreachable(`cannot reach Redis at ${url} (waited ${CONNECT_TIMEOUT_MS / 1000} s)`)),
      CONNECT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([client.waitUntilReady(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Redis could not be reached: a problem of the setup, not of pkeysim. */
export class QueueUnreachable extends Error {
  override readonly name = 'QueueUnreachable';
}

/** Options for runOnQueue: the Redis URL, queue name, and what to skip and report. */
export interface EnqueueOptions {
  readonly url: string;
  readonly queueName?: string;
  /** Keys already collected (a resumed results file): not enqueued. */
  readonly done?: ReadonlySet<string>;
  /** Called exactly once per point, when its result is collected. */
  readonly onRecord?: (record: SweepRecord) => void;
  readonly signal?: AbortSignal;
  /** How many times a point is tried (a worker dying mid-job costs a try). */
  readonly attempts?: number;
}

/**
 * Enqueue points as BullMQ jobs whose id is the point key (so a point already queued, by this
 * run, an earlier one or another coordinator, is not queued twice) and collect each result once:
 * a completed job's return value is handed to `onRecord`, then the job is removed. A worker that
 * dies mid-job leaves its job stalled; BullMQ moves it back to waiting and another worker runs it.
 * Since a point's result depends only on the point, running it twice gives the same record, and
 * the key makes sure it is collected once. Aborting stops collecting; the queue keeps the jobs, and
 * a re-run collects what finished meanwhile.
 */
export async function runOnQueue(
  points: readonly SweepPoint[],
  options: EnqueueOptions,
): Promise<{ collected: number; remaining: number; interrupted: boolean }> {
  await probeRedis(options.url);
  const queue = new Queue(options.queueName ?? DEFAULT_QUEUE_NAME, { connection: redisConnection(options.url) });
  queue.on('error', () => {});
  const pending = new Map<string, SweepPoint>();
  for (const p of points) {
    const key = pointKey(p);
    if (!options.done?.has(key)) pending.set(key, p);
  }
  let collected = 0;
  let ready = false;
  try {
    await connected(queue, options.url);
    ready = true;
    const jobs = [...pending].map(([key, point]) => ({
      name: 'point',
      data: point,
      opts: { jobId: key, attempts: options.attempts ?? 5, removeOnComplete: false, removeOnFail: false },
    }));
    for (let i = 0; i < jobs.length; i += PAGE) await queue.addBulk(jobs.slice(i, i + PAGE));
    // A point failed earlier (all attempts used) is retried now: this run wants it.
    for (const [key] of pending) {
      const job = await queue.getJob(key);
      if (job && (await job.isFailed())) await job.retry('failed');
    }
    while (pending.size > 0 && !options.signal?.aborted) {
      const before = pending.size;
      const total = await queue.getCompletedCount();
      for (let start = 0; start < total; start += PAGE) {
        const page: Job[] = await queue.getCompleted(start, start + PAGE - 1);
        for (const job of page) {
          if (job.id === undefined || !pending.has(job.id)) continue;
          const record = job.returnvalue as SweepRecord;
          if (record?.key !== job.id)
            throw new Error(`job ${job.id} returned a result for another point (a worker of another pkeysim version?)`);
          pending.delete(job.id);
          collected++;
          options.onRecord?.(record);
          await job.remove();
        }
      }
      const failed = await queue.getFailed(0, PAGE - 1);
      const lost = failed.filter((j) => j.id !== undefined && pending.has(j.id));
      if (lost.length > 0)
        throw new Error(
          `${lost.length} point(s) failed on every attempt, e.g. ${lost[0].id}: ${lost[0].failedReason} (re-run to retry)`,
        );
      if (pending.size === before) await sleep(POLL_MS, options.signal);
    }
  } finally {
    await (ready ? queue.close() : queue.disconnect());
  }
  return { collected, remaining: pending.size, interrupted: pending.size > 0 };
}

/** Options for runQueueWorker. */
export interface WorkerOptions {
  readonly url: string;
  readonly queueName?: string;
  /** Points run at once, each on its own worker thread (default 1). */
  readonly workers?: number;
  /** A name for this worker, shown on its jobs (default host:pid). */
  readonly name?: string;
  /**
   * How long a job's lock lives without renewal; a worker that dies is noticed this long after
   * (BullMQ's default is 30 s). Its stalled-job check runs as often.
   */
  readonly lockDurationMs?: number;
  /** Called when a point starts on this worker. */
  readonly onStart?: (key: string, point: SweepPoint) => void;
  /** Called with the record when a point is done on this worker. */
  readonly onJob?: (record: SweepRecord) => void;
  /** Aborting closes the worker after the points in flight finish. */
  readonly signal?: AbortSignal;
}

/** Process queued points until `signal` aborts. Points run on worker threads, so locks stay renewed. */
export async function runQueueWorker(options: WorkerOptions): Promise<{ processed: number }> {
  await probeRedis(options.url);
  const workers = options.workers ?? 1;
  const pool = new PointPool(workers);
  let processed = 0;
  const lockDuration = options.lockDurationMs ?? 30_000;
  const worker = new Worker(
    options.queueName ?? DEFAULT_QUEUE_NAME,
    async (job: Job<SweepPoint>) => {
      options.onStart?.(job.id ?? pointKey(job.data), job.data);
      const record = await pool.run(job.data);
      processed++;
      options.onJob?.(record);
      return record;
    },
    {
      connection: redisConnection(options.url),
      concurrency: workers,
      name: options.name ?? `${hostname()}:${process.pid}`,
      lockDuration,
      stalledInterval: lockDuration,
      maxStalledCount: 5,
      autorun: false,
    },
  );
  let failure: Error | undefined;
  worker.on('error', (error) => {
    failure ??= error;
  });
  const stopped = new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  let ready = false;
  try {
    await connected(worker, options.url);
    ready = true;
    void worker.run();
    await stopped;
  } finally {
    await (ready ? worker.close() : worker.disconnect());
    await pool.close();
  }
  if (failure && processed === 0) throw failure;
  return { processed };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
