import type { Machine } from '@pkeysim/core';

/** Builds a fresh machine for one check (each check starts from a machine nobody has touched). */
export type MakeMachine = () => Machine;

/** Options of the conformance suite: where it maps its test pages, known failures, and how many runs. */
export interface ConformanceOptions {
  /**
   * Where the suite maps its test pages (signed virtual addresses). The defaults suit x86-like
   * layouts: 0x10000000 for user pages, 0xffff888000000000 for supervisor pages.
   */
  readonly addresses?: { readonly user?: number; readonly supervisor?: number };
  /**
   * Checks the plugin is known to fail, by check id, with the reason. They still run: a listed check
   * that passes is reported too, so the list cannot go stale.
   */
  readonly knownFailures?: Readonly<Record<string, string>>;
  /** Runs of each property-based check (default 50). */
  readonly runs?: number;
}

/** One failed check. */
export interface ConformanceFailure {
  /** The check's id, e.g. "load-read". */
  readonly check: string;
  readonly title: string;
  readonly message: string;
  /** True when the check is listed in `knownFailures` (the reason is in `known`). */
  readonly expected: boolean;
  readonly known?: string;
}
