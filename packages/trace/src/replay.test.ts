import { Deny, parseRights } from '@pkeysim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LACKEY_LETTERS, TRACE_ACCESS_KIND_NAMES, TraceAccessKind } from './access-kind';
import { formatAddress } from './address';
import { definePolicy, formatRights, type Policy } from './policy';
import { Replayer, replayTrace } from './replay';
import { formatReplayReport, type ReplayReport } from './report';
import { deniesAccess } from './rights';

interface Access {
  kind: TraceAccessKind;
  address: number;
  size: number;
}

const F = TraceAccessKind.Fetch;
const L = TraceAccessKind.Load;
const S = TraceAccessKind.Store;
const M = TraceAccessKind.Modify;

function traceText(accesses: readonly Access[]): string {
  return accesses
    .map((a) => {
      const hex = formatAddress(a.address).slice(2).padStart(8, '0');
      return a.kind === F ? `I  ${hex},${a.size}\n` : ` ${LACKEY_LETTERS[a.kind]} ${hex},${a.size}\n`;
    })
    .join('');
}

function replay(
  policy: Policy,
  accesses: readonly Access[],
  options: { firstFaults?: number; batchSize?: number } = {},
): ReplayReport {
  const replayer = new Replayer(policy, options);
  replayer.push(Buffer.from(traceText(accesses)));
  return replayer.finish();
}

const oneDomain = (rights: string) =>
  definePolicy({ domains: [{ name: 'd', rights, ranges: [{ start: '0x1000', size: '4K' }] }] });

describe('the access rule', () => {
  // Each rights string against fetch, load, store, modify: true = faults.
  const table: [string, boolean, boolean, boolean, boolean][] = [
    ['rwx', false, false, false, false],
    ['rw', true, false, false, false],
    ['rx', false, false, true, true],
    ['r', true, false, true, true],
    ['x', false, true, true, true],
    ['wx', false, true, false, true],
    ['none', true, true, true, true],
  ];
  it.each(table)('rights %s: fetch faults %s, load %s, store %s, modify %s', (rights, fetch, load, store, modify) => {
    const denials = parseRights(rights);
    expect([F, L, S, M].map((kind) => deniesAccess(denials, kind))).toEqual([fetch, load, store, modify]);
  });

  it('checks fetches only against Deny.Execute, never against Deny.Access (x86 keys do not govern fetches)', () => {
    expect(deniesAccess(Deny.Access | Deny.Write | Deny.Read, F)).toBe(false);
    expect(deniesAccess(Deny.Execute, F)).toBe(true);
    expect(deniesAccess(Deny.Read, L)).toBe(true);
    expect(deniesAccess(Deny.Read, S)).toBe(false);
  });
});

describe('Replayer', () => {
  it('counts accesses per domain and kind, and faults by the domain rights', () => {
    const report = replay(oneDomain('r'), [
      { kind: F, address: 0x1000, size: 4 },
      { kind: L, address: 0x1008, size: 8 },
      { kind: S, address: 0x1010, size: 8 },
      { kind: M, address: 0x1018, size: 4 },
      { kind: S, address: 0x5000, size: 8 },
    ]);
    const [outside, d] = report.domains;
    expect(d.accesses).toEqual({ fetch: 1, load: 1, store: 1, modify: 1, total: 4 });
    expect(d.faults).toEqual({ fetch: 1, load: 0, store: 1, modify: 1, total: 3 });
    expect(outside.accesses).toEqual({ fetch: 0, load: 0, store: 1, modify: 0, total: 1 });
    expect(outside.faults.total).toBe(0);
    expect(report.accesses).toBe(5);
    expect(report.faults).toBe(3);
  });

  it('faults an access that spans into a denying domain, charging that domain but counting the access in the first', () => {
    const policy = definePolicy({
      domains: [
        { name: 'open', rights: 'rw', ranges: [{ start: '0x1000', size: '4K' }] },
        { name: 'closed', rights: 'none', ranges: [{ start: '0x2000', size: '4K' }] },
      ],
    });
    // The first load puts the open page in the page cache; the second starts there and runs off it.
    const report = replay(policy, [
      { kind: L, address: 0x1000, size: 8 },
      { kind: L, address: 0x1ffc, size: 8 },
    ]);
    expect(report.domains[1].accesses.load).toBe(2);
    expect(report.domains[2].accesses.load).toBe(0);
    expect(report.domains[2].faults.load).toBe(1);
    expect(report.firstFaults).toEqual([
      { index: 1, kind: 'load', address: '0x1ffc', size: 8, domain: 'closed', rights: '---' },
    ]);
  });

  it('applies an atAccess change just before the access with that index', () => {
    const policy = definePolicy({
      domains: [{ name: 'd', rights: 'rw', ranges: [{ start: '0x1000', size: '4K' }] }],
      changes: [
        { atAccess: 2, set: { d: 'none' } },
        { atAccess: 4, set: { d: 'rw' } },
      ],
    });
    const stores = Array.from({ length: 6 }, () => ({ kind: S, address: 0x1000, size: 8 }));
    for (const batchSize of [1, 3, 8192]) {
      const report = replay(policy, stores, { batchSize });
      expect(report.firstFaults.map((f) => f.index)).toEqual([2, 3]);
      expect(report.rightsChanges).toBe(2);
      expect(report.domains[1]).toMatchObject({ initialRights: 'rw-', finalRights: 'rw-' });
    }
  });

  it('applies an onFetch change after the fetch at that address is checked, each time it is fetched', () => {
    const policy = definePolicy({
      domains: [
        { name: 'code', rights: 'rx', ranges: [{ start: '0x401000', size: '4K' }] },
        { name: 'secret', rights: 'none', ranges: [{ start: '0x600000', size: '4K' }] },
      ],
      changes: [
        { onFetch: '0x401010', set: { secret: 'rw' } },
        { onFetch: '0x401020', set: { secret: 'none' } },
      ],
    });
    const report = replay(policy, [
      { kind: L, address: 0x600000, size: 8 }, // closed: faults
      { kind: F, address: 0x401010, size: 4 }, // opens
      { kind: L, address: 0x600000, size: 8 },
      { kind: F, address: 0x401020, size: 4 }, // closes
      { kind: S, address: 0x600008, size: 8 }, // faults
      { kind: F, address: 0x401011, size: 4 }, // inside the opening instruction, not at it: nothing
      { kind: L, address: 0x401010, size: 8 }, // a load of the trigger address: nothing
      { kind: S, address: 0x600000, size: 8 }, // still closed: faults
      { kind: F, address: 0x401010, size: 4 }, // opens again
      { kind: S, address: 0x600000, size: 8 },
    ]);
    expect(report.firstFaults.map((f) => [f.index, f.kind, f.rights])).toEqual([
      [0, 'load', '---'],
      [4, 'store', '---'],
      [7, 'store', '---'],
    ]);
    expect(report.rightsChanges).toBe(3);
    expect(report.domains[2].finalRights).toBe('rw-');
  });

  it('records only the first N faults but counts them all', () => {
    const stores = Array.from({ length: 50 }, (_, i) => ({ kind: S, address: 0x1000 + 8 * i, size: 8 }));
    const report = replay(oneDomain('r'), stores, { firstFaults: 3 });
    expect(report.faults).toBe(50);
    expect(report.firstFaults.map((f) => f.index)).toEqual([0, 1, 2]);
  });

  it('treats a zero-size record as touching its address', () => {
    const report = replay(oneDomain('none'), [{ kind: L, address: 0x1fff, size: 0 }]);
    expect(report.faults).toBe(1);
  });

  it('reads any async stream of chunks and strings, and counts malformed lines in skip mode', async () => {
    async function* chunks() {
      yield '==1== Lackey\nI  00001000,4\n L 000';
      yield Buffer.from('01008,8\nbogus\n S 00001010,8');
    }
    const report = await replayTrace(chunks(), oneDomain('r'), { malformed: 'skip' });
    expect(report.accesses).toBe(3);
    expect(report.faults).toBe(2);
    expect(report.trace).toEqual({
      lines: 5,
      messageLines: 1,
      malformedLines: 1,
      firstMalformed: {
        line: 4,
        reason: 'expected an access record (I, L, S or M) or a valgrind ==pid== line: "bogus"',
      },
    });
  });

  it('prints a table with one row per domain and the first faults', () => {
    const report = replay(oneDomain('r'), [
      { kind: F, address: 0x1000, size: 4 },
      { kind: L, address: 0x1008, size: 8 },
      { kind: S, address: 0x9000, size: 8 },
    ]);
    expect(formatReplayReport(report)).toBe(
      [
        'Replayed 3 accesses (1 fetch, 1 load, 1 store, 0 modifies) from 3 lines.',
        '0 rights changes applied; 1 access would fault.',
        '',
        'domain   rights  fetches  loads  stores  modifies  faults  ranges',
        'default  rwx           0      0       1         0       0  (all other addresses)',
        'd        r--           1      1       0         0       1  0x1000-0x2000',
        '',
        'Faults:',
        '  access  kind   address  size  domain  rights',
        '      #0  fetch  0x1000      4  d       r--',
        '',
      ].join('\n'),
    );
  });
});

/**
 * A reference model written for clarity, not speed: a linear scan of the ranges for every byte.
 * The replayer (segment table, page cache, batching, triggers) must agree with it exactly.
 */
function referenceReplay(policy: Policy, accesses: readonly Access[]) {
  const denials = policy.domains.map((d) => d.initialDenials);
  const domainOf = (address: number) =>
    policy.domains.find((d) => d.ranges.some((r) => r.start <= address && address < r.end))?.index ?? 0;
  const timed = policy.changes.flatMap((c) => ('atAccess' in c ? [c] : [])).sort((a, b) => a.atAccess - b.atAccess);
  const counts = policy.domains.map(() => [0, 0, 0, 0]);
  const faults = policy.domains.map(() => [0, 0, 0, 0]);
  const faultIndexes: number[] = [];
  let changes = 0;
  const apply = (set: readonly { domain: number; denials: number }[]) => {
    for (const a of set) denials[a.domain] = a.denials;
    changes++;
  };
  accesses.forEach((a, index) => {
    while (timed.length > 0 && timed[0].atAccess <= index) apply(timed.shift()!.set);
    counts[domainOf(a.address)][a.kind]++;
    for (let b = 0; b < Math.max(a.size, 1); b++) {
      const d = domainOf(a.address + b);
      if (deniesAccess(denials[d], a.kind)) {
        faults[d][a.kind]++;
        faultIndexes.push(index);
        break;
      }
    }
    if (a.kind === F) for (const c of policy.changes) if ('onFetch' in c && c.onFetch === a.address) apply(c.set);
  });
  while (timed.length > 0 && timed[0].atAccess <= accesses.length) apply(timed.shift()!.set);
  return { counts, faults, faultIndexes, changes, finalDenials: denials };
}

describe('Replayer against a reference model', () => {
  // Addresses cluster around a few page boundaries, including pages that share a page-cache slot
  // (0x0 and 0x1000000) and the kernel half, so ranges, spans and cache evictions all happen.
  // Both cut points and accesses crowd around page boundaries, where the page cache must not be
  // trusted for an access that runs into the next page.
  const bases = [0x0, 0x1000, 0x1000000, 0x7fff000, -0x778000000000];
  const offset = fc.oneof(
    fc
      .tuple(fc.constantFrom(0, 0x1000, 0x2000), fc.integer({ min: -24, max: 24 }))
      .map(([page, delta]) => page + delta),
    fc.constantFrom(0, 0x1000, 0x2000),
    fc.integer({ min: -64, max: 0x2040 }),
  );
  const address = fc.tuple(fc.constantFrom(...bases), offset).map(([b, o]) => b + o);
  const rights = fc.constantFrom('rwx', 'rw', 'rx', 'r', 'x', 'wx', 'w', 'none');
  const accessArb = fc.record({ kind: fc.constantFrom(F, L, S, M), address, size: fc.integer({ min: 0, max: 16 }) });

  const scenario = fc
    .record({
      cuts: fc.uniqueArray(address, { minLength: 0, maxLength: 10 }),
      domainRights: fc.array(rights, { minLength: 1, maxLength: 4 }),
      defaultRights: rights,
      accesses: fc.array(accessArb, { maxLength: 300 }),
      timed: fc.array(fc.record({ at: fc.nat({ max: 320 }), domain: fc.nat(), rights }), { maxLength: 4 }),
      fetchTriggers: fc.array(fc.record({ pick: fc.nat(), domain: fc.nat(), rights }), { maxLength: 3 }),
      batchSize: fc.integer({ min: 1, max: 40 }),
    })
    .map((s) => {
      // Sorted cut points paired into ranges, handed round-robin to the domains.
      const points = [...s.cuts].sort((a, b) => a - b);
      const names = s.domainRights.map((_, i) => `d${i}`);
      const ranges: { start: string; end: string }[][] = names.map(() => []);
      for (let i = 0; i + 1 < points.length; i += 2)
        ranges[(i / 2) % names.length].push({ start: formatAddress(points[i]), end: formatAddress(points[i + 1]) });
      const all = ['default', ...names];
      const fetches = s.accesses.filter((a) => a.kind === F);
      const policy = definePolicy({
        domains: [
          { name: 'default', rights: s.defaultRights },
          ...names.map((name, i) => ({ name, rights: s.domainRights[i], ranges: ranges[i] })),
        ],
        changes: [
          ...s.timed.map((t) => ({ atAccess: t.at, set: { [all[t.domain % all.length]]: t.rights } })),
          ...(fetches.length === 0
            ? []
            : s.fetchTriggers.map((t) => ({
                onFetch: formatAddress(fetches[t.pick % fetches.length].address),
                set: { [all[t.domain % all.length]]: t.rights },
              }))),
        ],
      });
      return { policy, accesses: s.accesses, batchSize: s.batchSize };
    });

  it('agrees on every count, fault, fault place, rights change and final rights', () => {
    fc.assert(
      fc.property(scenario, ({ policy, accesses, batchSize }) => {
        const report = replay(policy, accesses, { batchSize, firstFaults: 1000 });
        const expected = referenceReplay(policy, accesses);
        for (const d of policy.domains) {
          const row = report.domains[d.index];
          expect(TRACE_ACCESS_KIND_NAMES.map((name) => row.accesses[name])).toEqual(expected.counts[d.index]);
          expect(TRACE_ACCESS_KIND_NAMES.map((name) => row.faults[name])).toEqual(expected.faults[d.index]);
          expect(row.finalRights).toBe(formatRights(expected.finalDenials[d.index]));
        }
        expect(report.firstFaults.map((f) => f.index)).toEqual(expected.faultIndexes);
        expect(report.rightsChanges).toBe(expected.changes);
      }),
      { numRuns: 300 },
    );
  });
});
