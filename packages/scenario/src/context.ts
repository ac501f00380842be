import { isDomainError } from '@pkeysim/core';
import { errnoName, KernelError, type Thread } from '@pkeysim/kernel';
import { type UserThread, userErrnoName } from '@pkeysim/pkeys-user';
import type { RunEvent } from './events';
import { formatPath, type LoadedScenario, type PathSegment, ScenarioError } from './load';
import type { ScenarioOp } from './schema';

export { denialsName, hex, rightsNameOf } from './format';

/** A memory object (alloc_pages) or a view of one (vmap), as programs address it. */
export interface MemoryTarget {
  readonly name: string;
  /** The kernel virtual address programs access (direct map for objects, vmalloc area for views). */
  readonly address: number;
  readonly length: number;
  /** Physical address of the first page (views share their object's pages). */
  readonly physical: number;
  readonly pages: number;
  readonly pmem: boolean;
  /** Set for a view: the object it maps. */
  readonly viewOf?: string;
  /** Set for user memory (mmap): the thread whose process maps it. */
  readonly user?: UserThread;
}

/** One open access window, so `close` knows how it was opened. */
export interface OpenWindow {
  readonly object: string;
  readonly via: 'kmap_local' | 'kmap_atomic' | 'kmap' | 'kmap_local_range';
  readonly address: number;
  readonly physical: number;
}

/** A scenario thread while it runs: its kernel thread, its program and what it has open. */
export interface ThreadRun {
  readonly name: string;
  readonly thread: Thread;
  /** The user-space thread, for a task of a user process (pkey syscalls, PKRU, signals). */
  readonly user?: UserThread;
  body: Generator<YieldRequest, void, unknown> | undefined;
  readonly windows: OpenWindow[];
  /** Rounds left to sleep (round-robin). */
  sleep: number;
  done: boolean;
  /** Where its current op is, for messages. */
  path: readonly PathSegment[];
}

/** What a program hands its driver at a preemption point. */
export type YieldRequest =
  | { readonly kind: 'yield' }
  | { readonly kind: 'sleep'; readonly rounds: number }
  | { readonly kind: 'migrate'; readonly cpu: number }
  | { readonly kind: 'exit' };

/** One fault seen by the machine, with what the kernel made of it. */
export interface FaultRecord {
  readonly thread: string;
  readonly cpu: number;
  readonly address: number;
  readonly key: number | undefined;
  readonly object: string | undefined;
  readonly access: 'read' | 'write' | 'fetch';
  readonly event: Extract<RunEvent, { type: 'fault' }>;
}

/** An assertion that did not hold, located in the file. */
export interface Failure {
  readonly line: number;
  readonly path: string;
  readonly message: string;
}

/**
 * A problem only a run can find (a key name used before anything bound it, an op the build cannot
 * do): bad input, reported with the file and line like a schema error.
 */
export function runtimeError(loaded: LoadedScenario, path: readonly PathSegment[], message: string): ScenarioError {
  return new ScenarioError([{ file: loaded.file, line: loaded.source.lineOf(path), path: formatPath(path), message }]);
}

/** The errno a refused kernel call stands for ("ENOSPC"), from a negated return value or a thrown error. */
export function errnoOfCall(result: number): string {
  if (result >= 0) return 'ok';
  // The kernel API's errnos, then the ones only system calls return (EPERM, ESRCH, ...), then EAGAIN (futex).
  for (const name of [errnoName(result), userErrnoName(result)]) if (name.startsWith('-E')) return name.slice(1);
  return String(result);
}

export function errnoOfError(error: unknown): string {
  if (error instanceof KernelError) return error.code;
  if (isDomainError(error)) return error.errnoName;
  throw error;
}

/** "set_rights key=pmem rights=rw": an op with its arguments, for the log. */
export function describeOp(op: ScenarioOp): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(op)) {
    if (k === 'op' || k === 'note' || k === 'program' || k === 'handler' || v === undefined) continue;
    if (k === 'offset' && v === 0) continue;
    if (k === 'expect' && v === 'ok') continue;
    if (k === 'exclusive' && v === false) continue;
    if (k === 'writable' && v === true) continue;
    if (k === 'xstate_bv' && v === true) continue;
    if (k === 'prot' && v === 'rw') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return parts.join(' ');
}

/** How a scenario thread ended: the one place both the result and `expect.threads` read it. */
export function threadState(run: ThreadRun): 'finished' | 'oops' | 'killed' | 'unfinished' {
  if (run.thread.oops) return 'oops';
  if (run.user?.process.fatalSignal) return 'killed';
  return run.thread.state === 'dead' || (run.user !== undefined && !run.user.alive) ? 'finished' : 'unfinished';
}
