import type { Vma } from './vma';

/**
 * A protection-key use-after-free (pkey_free(2) BUGS; libmpk, USENIX ATC 2019): pkey_free does not
 * touch mappings that still carry the key, so they stay governed by whatever rights a thread gives
 * that key number next, including after pkey_alloc hands the number to someone else.
 */
export interface PkeyHazard {
  readonly kind: 'freed-key-attached' | 'reallocated-key-attached';
  readonly key: number;
  /** The mappings still tagged with the key. */
  readonly ranges: readonly { readonly start: number; readonly end: number }[];
  readonly message: string;
}

/** What happened when a key was freed while attached (kept as a warning, as a kernel WARN would be). */
export interface PkeyFreeWarning {
  readonly key: number;
  readonly mappings: number;
  readonly message: string;
}

/** The hazards in a set of VMAs, given which keys are allocated now and at which generation. */
export function findHazards(
  vmas: readonly Vma[],
  isAllocated: (key: number) => boolean,
  generation: (key: number) => number,
  defaultKey: number,
  executeOnlyKey: number,
): PkeyHazard[] {
  const byKey = new Map<number, { start: number; end: number }[]>();
  const kinds = new Map<number, PkeyHazard['kind']>();
  for (const v of vmas) {
    if (v.pkey === defaultKey || v.pkey === executeOnlyKey) continue;
    let kind: PkeyHazard['kind'] | undefined;
    if (!isAllocated(v.pkey)) kind = 'freed-key-attached';
    else if (generation(v.pkey) !== v.pkeyGeneration) kind = 'reallocated-key-attached';
    if (!kind) continue;
    if (kinds.get(v.pkey) !== 'reallocated-key-attached') kinds.set(v.pkey, kind);
    const list = byKey.get(v.pkey) ?? [];
    list.push({ start: v.start, end: v.end });
    byKey.set(v.pkey, list);
  }
  return [...byKey.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([key, ranges]) => {
      const kind = kinds.get(key)!;
      const what =
        kind === 'freed-key-attached'
          ? `pkey ${key} was freed but ${ranges.length} mapping(s) still carry it`
          : `pkey ${key} was freed and allocated again while ${ranges.length} mapping(s) still carry the old key: the new owner's rights now govern them`;
      return { kind, key, ranges, message: `use-after-free: ${what}` };
    });
}
