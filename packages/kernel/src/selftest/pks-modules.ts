import type { PksTestModuleId } from '../keys/pks-version';

/** What a test case does; one implementation each in PksTestModule. */
export type PksTestKind =
  | 'check-defaults'
  | 'single'
  | 'allocate'
  | 'arm'
  | 'check'
  | 'exception'
  | 'exception-update'
  | 'all-keys'
  | 'key-exhaustion'
  | 'disable'
  | 'crash';

/** One test of a module: its debugfs number and name in that posting's pks_test.c, and the source. */
export interface PksTestCase {
  readonly number: number;
  readonly name: string;
  readonly kind: PksTestKind;
  /** The file and posting the case follows, e.g. "V10 lib/pks/pks_test.c". */
  readonly source: string;
}

const V10 = 'V10 lib/pks/pks_test.c';
const V7 = 'V7 lib/pks/pks_test.c';
const V6 = 'V6 lib/pks/pks_test.c';
const RFC = 'RFC lib/pks/pks_test.c (2020)';

/** The RFC..V7 numbering (V7 pks_test.c: RUN_ALLOCATE "0" .. RUN_CRASH_TEST "9"), for one source. */
function earlyModule(source: string, withDisable: boolean): readonly PksTestCase[] {
  return Object.freeze<PksTestCase[]>([
    { number: 0, name: 'RUN_ALLOCATE', kind: 'allocate', source },
    { number: 1, name: 'ARM_CTX_SWITCH', kind: 'arm', source },
    { number: 2, name: 'CHECK_CTX_SWITCH', kind: 'check', source },
    { number: 3, name: 'RUN_ALLOCATE_ALL', kind: 'all-keys', source },
    // "The same as '0' / '3' with additional kernel debugging": the same checks here.
    { number: 4, name: 'RUN_ALLOCATE_DEBUG', kind: 'allocate', source },
    { number: 5, name: 'RUN_ALLOCATE_ALL_DEBUG', kind: 'all-keys', source },
    ...(withDisable ? [{ number: 6, name: 'RUN_DISABLE_TEST', kind: 'disable', source } satisfies PksTestCase] : []),
    { number: 9, name: 'RUN_CRASH_TEST', kind: 'crash', source },
  ]);
}

/** Each posting's test module, as its debugfs run_pks numbered the tests. */
export const PKS_TEST_MODULES: Readonly<Record<PksTestModuleId, readonly PksTestCase[]>> = Object.freeze({
  'rfc-2020': earlyModule(RFC, false),
  v6: earlyModule(V6, false),
  // V7 changelog: "Add testing for pks_abandon_protections()" (RUN_DISABLE_TEST "6").
  v7: earlyModule(V7, true),
  // V8 split the module into CHECK_DEFAULTS .. RUN_CRASH_TEST; V10's list.
  v10: Object.freeze<PksTestCase[]>([
    { number: 0, name: 'CHECK_DEFAULTS', kind: 'check-defaults', source: V10 },
    { number: 1, name: 'RUN_SINGLE', kind: 'single', source: V10 },
    { number: 2, name: 'ARM_CTX_SWITCH', kind: 'arm', source: V10 },
    { number: 3, name: 'CHECK_CTX_SWITCH', kind: 'check', source: V10 },
    { number: 4, name: 'RUN_EXCEPTION', kind: 'exception', source: V10 },
    { number: 5, name: 'RUN_EXCEPTION_UPDATE', kind: 'exception-update', source: V10 },
    { number: 6, name: 'RUN_ALL_KEYS', kind: 'all-keys', source: V10 },
    { number: 9, name: 'RUN_CRASH_TEST', kind: 'crash', source: V10 },
  ]),
});

/** The cases of module `id`. */
export function pksTestModuleOf(id: PksTestModuleId): readonly PksTestCase[] {
  return PKS_TEST_MODULES[id];
}
