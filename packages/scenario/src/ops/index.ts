import type { z } from 'zod';
import { CONTROL_OPS } from './control';
import { KERNEL_KEY_OPS } from './kernel-keys';
import { MEMORY_OPS } from './memory';
import type { OpSpec } from './spec';
import { USER_PKEY_OPS } from './user-pkeys';

/**
 * Every leaf op, by name: one {@link OpSpec} each (schema, bindings, reference checks, run). The
 * scenario schema's op union is built from this table and the runner dispatches through it, so an
 * op cannot exist in one place and be missing in another. The nesting ops (interrupt, nmi, fork,
 * repeat, signal) and migrate, which need the driver's generators and scheduler, live in run.ts.
 */
export const OPS = { ...CONTROL_OPS, ...KERNEL_KEY_OPS, ...MEMORY_OPS, ...USER_PKEY_OPS };

/** The name of a table op. */
export type TableOpName = keyof typeof OPS;
/** A validated table op, by name. */
export type TableOp<K extends TableOpName = TableOpName> = z.output<(typeof OPS)[K]['schema']>;

// Each entry's key is the op name its schema accepts: a typo or a swapped entry is a compile error.
type KeysMatchSchemas = { [K in TableOpName]: TableOp<K>['op'] extends K ? true : false }[TableOpName];
const keysMatchSchemas: KeysMatchSchemas = true;
void keysMatchSchemas;

/** The table's schemas, in table order, for the op union. */
export const TABLE_OP_SCHEMAS = Object.values(OPS).map((spec) => spec.schema) as [
  (typeof OPS)[TableOpName]['schema'],
  ...(typeof OPS)[TableOpName]['schema'][],
];

/** The spec of a table op, or undefined for an op the table does not hold (nesting ops, migrate). */
export function opSpec(name: string): OpSpec | undefined {
  return Object.hasOwn(OPS, name) ? (OPS[name as TableOpName] as unknown as OpSpec) : undefined;
}

/** The table ops that need the kernel's user-space support. */
export const TABLE_USER_SPACE_OPS = (Object.keys(OPS) as TableOpName[]).filter((k) => opSpec(k)?.userSpace);

export type { OpSpec, OpContext, ReferenceChecks, Bindings } from './spec';
