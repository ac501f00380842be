import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessKind, DomainError } from '@pkeysim/core';
import { KernelError, KM_MAX_IDX, MAX_ENTRY_DEPTH } from '@pkeysim/kernel';
import { PROT_READ, PROT_WRITE } from '../src';
import { snapshot } from '../../kernel/test/helpers';
import { anon, userBoot } from './user-helpers';

/** Values a careless or hostile caller passes where a number belongs. */
const junk = fc.constantFrom<unknown>(
  NaN,
  Infinity,
  -Infinity,
  1.5,
  -1,
  2 ** 53,
  1e20,
  '1',
  'toString',
  null,
  undefined,
  {},
  [],
);
const keyArg = fc.oneof(fc.integer({ min: 0, max: 16 }), junk);
const rightsArg = fc.oneof(fc.integer({ min: 0, max: 3 }), junk);

type Op =
  | { op: 'key_alloc'; owner: unknown }
  | { op: 'key_free'; key: unknown }
  | { op: 'set_memory_pks'; page: number; numpages: unknown; key: unknown; junkAddress: boolean }
  | { op: 'kernel_access'; page: number; kind: unknown }
  | { op: 'kmap'; page: number }
  | { op: 'kunmap' }
  | { op: 'enter' }
  | { op: 'exit' }
  | { op: 'pkey_alloc'; rights: unknown }
  | { op: 'pkey_free'; key: unknown }
  | { op: 'pkey_set'; key: unknown; rights: unknown }
  | { op: 'pkey_mprotect'; key: unknown }
  | { op: 'user_access'; write: boolean; junkAddress: boolean };

const PAGES = 3;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('key_alloc' as const), owner: fc.oneof(fc.constantFrom('a', 'b'), junk) }),
  fc.record({ op: fc.constant('key_free' as const), key: keyArg }),
  fc.record({
    op: fc.constant('set_memory_pks' as const),
    page: fc.nat(PAGES - 1),
    numpages: fc.oneof(fc.constant(1), junk),
    key: keyArg,
    junkAddress: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('kernel_access' as const),
    page: fc.nat(PAGES - 1),
    kind: fc.oneof(fc.constantFrom(AccessKind.Read, AccessKind.Write), junk),
  }),
  fc.record({ op: fc.constant('kmap' as const), page: fc.nat(PAGES - 1) }),
  fc.constant({ op: 'kunmap' as const }),
  fc.constant({ op: 'enter' as const }),
  fc.constant({ op: 'exit' as const }),
  fc.record({ op: fc.constant('pkey_alloc' as const), rights: rightsArg }),
  fc.record({ op: fc.constant('pkey_free' as const), key: keyArg }),
  fc.record({ op: fc.constant('pkey_set' as const), key: keyArg, rights: rightsArg }),
  fc.record({ op: fc.constant('pkey_mprotect' as const), key: keyArg }),
  fc.record({ op: fc.constant('user_access' as const), write: fc.boolean(), junkAddress: fc.boolean() }),
);

const RUNS = Number(process.env.PKEYSIM_FUZZ_RUNS ?? 1) * 2000;

describe('model: key alloc/free, set_memory_pks, faults and oopses, user pkeys and rights changes, with hostile arguments', () => {
  it(`every call returns or throws the project's errors, and a refused call changes nothing (${RUNS} sequences of up to 40 calls)`, () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
        const { kernel, t } = userBoot({ cpus: 1 });
        const cpu = kernel.cpu(0);
        const pages = Array.from({ length: PAGES }, () => kernel.alloc_page());
        const buffer = anon(t, 0x1000, PROT_READ | PROT_WRITE);
        const mapped: number[] = [];
        let frames = 0;
        for (const step of ops) {
          // The snapshot reads rights (a counted event), so counters are read after it and before the call.
          const state = snapshot(kernel);
          const counters = JSON.stringify(kernel.stats());
          let refused = false;
          try {
            switch (step.op) {
              case 'key_alloc':
                refused = kernel.pks_key_alloc(step.owner as string) < 0;
                break;
              case 'key_free':
                refused = kernel.pks_key_free(step.key as number) < 0;
                break;
              case 'set_memory_pks': {
                const address = step.junkAddress ? NaN : kernel.page_address(pages[step.page]);
                refused = kernel.set_memory_pks(address, step.numpages as number, step.key as number) < 0;
                break;
              }
              case 'kernel_access':
                cpu.access(kernel.page_address(pages[step.page]), step.kind as AccessKind);
                break;
              case 'kmap':
                mapped.push(cpu.kmap_local_page(pages[step.page]));
                expect(mapped.length).toBeLessThanOrEqual(KM_MAX_IDX);
                break;
              case 'kunmap':
                if (mapped.length === 0) return;
                cpu.kunmap_local(mapped.at(-1)!);
                mapped.pop();
                break;
              case 'enter':
                cpu.enter('interrupt');
                frames++;
                expect(frames).toBeLessThanOrEqual(MAX_ENTRY_DEPTH);
                break;
              case 'exit':
                cpu.exit();
                frames--;
                break;
              case 'pkey_alloc':
                refused = t.pkey_alloc(0, step.rights as number) < 0;
                break;
              case 'pkey_free':
                refused = t.pkey_free(step.key as number) < 0;
                break;
              case 'pkey_set':
                refused = t.pkey_set(step.key as number, step.rights as number) < 0;
                break;
              case 'pkey_mprotect':
                refused = t.pkey_mprotect(buffer, 0x1000, PROT_READ | PROT_WRITE, step.key as number) < 0;
                break;
              case 'user_access':
                if (step.write) t.store(step.junkAddress ? NaN : buffer, new Uint8Array(4));
                else t.load(step.junkAddress ? 0.5 : buffer, 4);
                break;
            }
          } catch (error) {
            // Only the project's own error types; anything else is a bug in the model.
            if (!(error instanceof KernelError) && !(error instanceof DomainError)) throw error;
            refused = true;
          }
          if (refused) {
            expect(JSON.stringify(kernel.stats()), `${JSON.stringify(step)} was refused but counted events`).toBe(
              counters,
            );
            expect(snapshot(kernel), `${JSON.stringify(step)} was refused but changed state`).toBe(state);
          }
          // A dead thread (oops) or a panic ends what this sequence can do in user space.
          if (kernel.panic || t.task.state === 'dead') return;
        }
      }),
      { numRuns: RUNS },
    );
  }, 300_000);
});
