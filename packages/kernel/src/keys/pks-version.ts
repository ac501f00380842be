import type { EntryMode, KeyDesign } from '../config';
import type { Errno } from '../errors';

/**
 * The postings of the Linux PKS series that pkeysim can run, oldest first. "rfc" is the RFC of
 * Jul-Oct 2020 (RFC V1's entry code, the RFC allocator); v2..v10 are the numbered postings.
 */
export const PKS_VERSIONS = ['rfc', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10'] as const;

/** One posting of the series. */
export type PksVersion = (typeof PKS_VERSIONS)[number];

/** The series version used when nothing else decides: the last posting. */
export const DEFAULT_PKS_VERSION: PksVersion = 'v10';

/** Which test module (lib/pks/pks_test.c) a version shipped; see selftest/pks-modules.ts. */
export type PksTestModuleId = 'rfc-2020' | 'v6' | 'v7' | 'v10';

/** Where the versions differ, as data: each field names the posting whose code it follows. */
export interface PksVersionTraits {
  readonly version: PksVersion;
  /** "PKS V10 (Apr 2022)". */
  readonly title: string;
  /** Dynamic allocator (RFC..V6) or build-time consumers (V7..V10). */
  readonly keyDesign: KeyDesign;
  /** How the entry code treats rights across exceptions. */
  readonly entryMode: EntryMode;
  /** What pks_key_alloc returns when the CPU lacks PKS. */
  readonly unsupportedErrno: keyof typeof Errno & ('EINVAL' | 'EOPNOTSUPP');
  /** Whether pks_key_alloc takes a flags argument. */
  readonly allocFlags: boolean;
  /** The value of PKS_FLAG_EXCLUSIVE in that posting (0 means an exclusive request records nothing). */
  readonly exclusiveFlag: number;
  /** Whether pks_abandon_protections() exists. */
  readonly abandonProtections: boolean;
  readonly testModule: PksTestModuleId;
}

const dynamic = { keyDesign: 'dynamic', entryMode: 'aux-pt-regs', unsupportedErrno: 'EOPNOTSUPP' } as const;
const statik = { keyDesign: 'static', entryMode: 'aux-pt-regs', unsupportedErrno: 'EOPNOTSUPP' } as const;

/** Every version's traits, each difference with the posting it comes from. */
export const PKS_VERSION_TRAITS: Readonly<Record<PksVersion, PksVersionTraits>> = Object.freeze({
  rfc: {
    version: 'rfc',
    title: 'PKS RFC (Jul-Oct 2020)',
    keyDesign: 'dynamic',
    // RFC V1 cover letter: PKRS saved across context switches "but not during irqs".
    entryMode: 'legacy-rfc-v1',
    // RFC arch/x86/mm/pkeys.c pks_key_alloc: "if (!static_cpu_has(X86_FEATURE_PKS)) return -EINVAL;"
    // (V1 changelog "Changes from RFC V3": "Change return pks_key_alloc() to EOPNOTSUPP").
    unsupportedErrno: 'EINVAL',
    // RFC: int pks_key_alloc(const char * const pkey_user); flags came in V2 ("Changes from V1").
    allocFlags: false,
    exclusiveFlag: 0,
    abandonProtections: false,
    testModule: 'rfc-2020',
  },
  // V3 08/10 include/linux/pkeys.h: "#define PKS_FLAG_EXCLUSIVE 0x00" (as in V2).
  v2: {
    version: 'v2',
    title: 'PKS V2 (Nov 2020)',
    ...dynamic,
    allocFlags: true,
    exclusiveFlag: 0,
    abandonProtections: false,
    testModule: 'v6',
  },
  v3: {
    version: 'v3',
    title: 'PKS V3 (Nov 2020)',
    ...dynamic,
    allocFlags: true,
    exclusiveFlag: 0,
    abandonProtections: false,
    testModule: 'v6',
  },
  // V6 include/linux/pkeys.h: PKS_FLAG_EXCLUSIVE 0x1 (pkeysim's value from V4 on).
  v4: {
    version: 'v4',
    title: 'PKS V4 (Dec 2020)',
    ...dynamic,
    allocFlags: true,
    exclusiveFlag: 1,
    abandonProtections: false,
    testModule: 'v6',
  },
  v5: {
    version: 'v5',
    title: 'PKS V5 (Mar 2021)',
    ...dynamic,
    allocFlags: true,
    exclusiveFlag: 1,
    abandonProtections: false,
    testModule: 'v6',
  },
  v6: {
    version: 'v6',
    title: 'PKS V6 (Apr 2021)',
    ...dynamic,
    allocFlags: true,
    exclusiveFlag: 1,
    abandonProtections: false,
    testModule: 'v6',
  },
  // V7 10/18 "x86/pks: Introduce pks_abandon_protections()"; V7 pks_test.c adds RUN_DISABLE_TEST.
  v7: {
    version: 'v7',
    title: 'PKS V7 (Aug 2021)',
    ...statik,
    allocFlags: false,
    exclusiveFlag: 0,
    abandonProtections: true,
    testModule: 'v7',
  },
  v8: {
    version: 'v8',
    title: 'PKS V8 (Jan 2022)',
    ...statik,
    allocFlags: false,
    exclusiveFlag: 0,
    abandonProtections: false,
    testModule: 'v10',
  },
  v9: {
    version: 'v9',
    title: 'PKS V9 (Mar 2022)',
    ...statik,
    allocFlags: false,
    exclusiveFlag: 0,
    abandonProtections: false,
    testModule: 'v10',
  },
  v10: {
    version: 'v10',
    title: 'PKS V10 (Apr 2022)',
    ...statik,
    allocFlags: false,
    exclusiveFlag: 0,
    abandonProtections: false,
    testModule: 'v10',
  },
});

/** Whether `value` names a version ("rfc", "v2" .. "v10"). */
export function isPksVersion(value: unknown): value is PksVersion {
  return typeof value === 'string' && (PKS_VERSIONS as readonly string[]).includes(value);
}

/** The traits of `version`. */
export function pksVersionTraits(version: PksVersion): PksVersionTraits {
  return PKS_VERSION_TRAITS[version];
}

/**
 * The version a configuration without one stands for: the static design is V10's; the dynamic one
 * is V6's, the last posting with the allocator (so configurations written before versions existed
 * keep their behaviour).
 */
export function pksVersionOfDesign(design: KeyDesign): PksVersion {
  return design === 'static' ? 'v10' : 'v6';
}
