import { describe, expect, it } from 'vitest';
import { Scheduler, type Thread } from '../src';
import { boot } from './helpers';

/**
 * The seeded scheduler keeps its runnable counts current from the kernel's reports of each thread
 * change (Kernel.watchRunqueue) instead of recounting after every switch. These traces pin the picks
 * the recounting scheduler made, so the counts must follow every change: switches, migrations by
 * other code, threads created and started mid-run, exits, and a runnable thread with no body.
 */
function trace(seed: number): string {
  const kernel = boot({ cpus: 3, seed });
  const scheduler = new Scheduler(kernel, seed, { preempt: 0.3, migrate: 0.2, interrupt: 0.1 });
  scheduler.onInterrupt(() => {});
  kernel.kthread_create('bystander', 1); // runnable on CPU 1, never given a body: never picked
  const threads: Thread[] = [];
  const body = (i: number) =>
    function* (self: { readonly thread: Thread }) {
      for (let n = 0; n < 4 + (i % 3); n++) {
        const other = threads[(i + n) % threads.length];
        if (other !== self.thread && other.state === 'runnable')
          kernel.migrate(other, (other.cpu + 1) % kernel.cpuCount);
        if (n === 2 && i === 1) {
          const late = kernel.kthread_create(`late${i}`, 2);
          threads.push(late);
          scheduler.start(late, body(threads.length + 5));
        }
        yield;
      }
    };
  for (let i = 0; i < 6; i++) threads.push(kernel.kthread_create(`w${i}`, i % 3));
  for (let i = 0; i < 6; i++) scheduler.start(threads[i], body(i));
  return scheduler
    .run(10_000)
    .map((e) => `${e.cpu}${e.action[0]}${e.thread ?? '-'}${e.detail ?? ''}`)
    .join(' ');
}

/** A 32-bit digest of the traces (the full text is long). */
function digest(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h >>> 0;
}

describe('the runnable counts the seeded scheduler keeps', () => {
  it('make the same picks as recounting every thread did, with threads moved and started by other code', () => {
    const traces = [1, 2, 3, 4, 5].map(trace).join('\n');
    expect([traces.length, digest(traces)]).toEqual(EXPECTED);
  });

  it('never pick a thread without a body, nor a finished one', () => {
    const text = trace(9);
    expect(text).not.toMatch(/bystander/);
    expect(text.split(' ').filter((e) => /^\df/.test(e))).toHaveLength(7);
  });
});

/** Length and digest of the traces as the recounting scheduler (before watchRunqueue) made them. */
const EXPECTED = [4804, 627668354];
