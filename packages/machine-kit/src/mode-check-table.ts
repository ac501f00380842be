/**
 * An access check memoized per mode word, for the hot path. An architecture whose check depends on
 * (a) a few bits of the translation (the "check index"), (b) the access kind, (c) a mode word built
 * from its control registers, and (d) the rights bits of ONE domain, describes the check once as a
 * pure function; each mode gets a table filled by probing that function, so the rules stay in one
 * place and an access costs one typed-array load. Rights are still read from the registers at every
 * access: a rights write changes no table and flushes nothing.
 *
 * Layout: code = table[((index | (kind << indexBits)) << rightsBits) | rights].
 */
import type { AccessKind } from '@pkeysim/core';

/** The shape of a memoized access check and the pure function that decides it. */
export interface ModeCheckSpec {
  /** Bits of the check index (at most 8). */
  readonly indexBits: number;
  /** Bits of one domain's rights (at most 8). */
  readonly rightsBits: number;
  /** Largest mode word + 1 (at most 2^16): tables are kept per mode. */
  readonly modes: number;
  /** The check: 0 when allowed, else the fault code. */
  check(index: number, kind: AccessKind, mode: number, rights: number): number;
}

const KINDS = 3;

/** Access-check tables memoized per mode word, filled by probing a {@link ModeCheckSpec}. */
export class ModeCheckTables {
  private readonly tables: (Int32Array | undefined)[];
  /** Entries of one table. */
  readonly size: number;

  constructor(private readonly spec: ModeCheckSpec) {
    if (spec.indexBits < 0 || spec.indexBits > 8 || spec.rightsBits < 0 || spec.rightsBits > 8)
      throw new RangeError('ModeCheckSpec: indexBits and rightsBits must be 0..8');
    if (!Number.isInteger(spec.modes) || spec.modes < 1 || spec.modes > 1 << 16)
      throw new RangeError('ModeCheckSpec: modes must be 1..65536');
    this.size = (KINDS << spec.indexBits) << spec.rightsBits;
    this.tables = new Array<Int32Array | undefined>(spec.modes).fill(undefined);
  }

  /** The table of `mode`, built on first use. */
  tableFor(mode: number): Int32Array {
    const existing = this.tables[mode];
    if (existing !== undefined) return existing;
    if (!Number.isInteger(mode) || mode < 0 || mode >= this.spec.modes)
      throw new RangeError(`mode word ${String(mode)} must be 0..${this.spec.modes - 1}`);
    const { indexBits, rightsBits } = this.spec;
    const table = new Int32Array(this.size);
    for (let kind = 0; kind < KINDS; kind++) {
      for (let index = 0; index < 1 << indexBits; index++) {
        for (let rights = 0; rights < 1 << rightsBits; rights++) {
          table[((index | (kind << indexBits)) << rightsBits) | rights] = this.spec.check(
            index,
            kind as AccessKind,
            mode,
            rights,
          );
        }
      }
    }
    this.tables[mode] = table;
    return table;
  }
}
