import { AccessKind } from '@pkeysim/core';

/**
 * The four record kinds of a lackey trace, as small numbers so batches hold them in a Uint8Array.
 * The first three equal core's `AccessKind` values; a modify is a load and a store of the same
 * bytes by one instruction (lackey's "M", e.g. `add [mem], reg`).
 */
export const TraceAccessKind = {
  Load: AccessKind.Read,
  Store: AccessKind.Write,
  Fetch: AccessKind.Fetch,
  Modify: 3,
} as const;
export type TraceAccessKind = (typeof TraceAccessKind)[keyof typeof TraceAccessKind];

/** The number of trace access kinds (load, store, fetch, modify). */
export const TRACE_ACCESS_KIND_COUNT = 4;

/** The lower-case name of a trace access kind. */
export type TraceAccessKindName = 'load' | 'store' | 'fetch' | 'modify';

/** Names indexed by kind, in the order of the values above. */
export const TRACE_ACCESS_KIND_NAMES: readonly TraceAccessKindName[] = ['load', 'store', 'fetch', 'modify'];

/** The letter lackey writes for each kind, indexed by kind. */
export const LACKEY_LETTERS: readonly string[] = ['L', 'S', 'I', 'M'];
