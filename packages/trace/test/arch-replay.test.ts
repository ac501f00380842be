import '@pkeysim/x86';
import '@pkeysim/arm64-poe';
import '@pkeysim/power';
import '@pkeysim/scheme-pagetable';
import '@pkeysim/scheme-capability';
import { isDomainError } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { architectureRules, parsePolicy, PolicyError, replayTrace, type Policy, type ReplayReport } from '../src/index';

// One page per domain: code at 0x401000 (default), data at 0x600000.
const DATA = '0x600000';
const policyOf = (rights: string, extra: object = {}): Policy =>
  parsePolicy(
    JSON.stringify({ domains: [{ name: 'data', rights, ranges: [{ start: DATA, size: '4K' }] }], ...extra }, null, 2),
    'p.json',
  );

/** A fetch, a load, a store and a modify of the data page. */
const EVERY_KIND = ['I  00600000,4', ' L 00600008,8', ' S 00600010,8', ' M 00600018,4', ''].join('\n');

async function replayOn(arch: string | undefined, policy: Policy, trace: string): Promise<ReplayReport> {
  const onArch = arch === undefined ? {} : architectureRules(policy, arch);
  return replayTrace([trace], policy, { ...onArch, firstFaults: 100 });
}

/** A policy of `count` open domains besides "default", one page each. */
function manyDomains(count: number): Policy {
  const domains = Array.from({ length: count }, (_, i) => ({
    name: `d${i}`,
    rights: 'rwx',
    ranges: [{ start: `0x${(0x1000000 + i * 0x1000).toString(16)}`, size: '4K' }],
  }));
  return parsePolicy(JSON.stringify({ domains }), 'many.json');
}

const faultKinds = (report: ReplayReport) => report.firstFaults.map((f) => f.kind);

/** The PolicyError the architecture raises for `policy`, or a failure if it accepts it. */
function refusal(policy: Policy, arch: string): PolicyError {
  try {
    architectureRules(policy, arch);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error(`${arch} accepted the policy`);
}

describe('replay on x86 (PKU)', () => {
  it('maps "default" to key 0 and the other domains to keys 1.. in PKRU, rights per thread', () => {
    const { mapping } = architectureRules(policyOf('rx'), 'x86');
    expect(mapping).toMatchObject({ arch: 'x86', space: 'x86.pku', register: 'PKRU', scope: 'thread' });
    expect(mapping.domains).toEqual([0, 1]);
    // Key 1 write-disabled (WD, bit 3); key 0 open; keys 2..15 access-disabled (the initial state).
    expect(mapping.initialState).toBe('0x55555558');
  });

  it('never checks fetches against a key; an access-disabled key stops loads, stores and modifies', async () => {
    const report = await replayOn('x86', policyOf('x'), EVERY_KIND);
    expect(faultKinds(report)).toEqual(['load', 'store', 'modify']);
    expect(report.arch).toEqual({
      name: 'x86',
      space: 'x86.pku',
      register: 'PKRU',
      scope: 'thread',
      initialState: '0x55555554',
    });
    expect(report.domains.map((d) => d.archDomain)).toEqual([0, 1]);
  });

  it('a write-disabled key stops stores and modifies only', async () => {
    expect(faultKinds(await replayOn('x86', policyOf('rx'), EVERY_KIND))).toEqual(['store', 'modify']);
  });

  it('refuses a fetch denial (PKU cannot deny execute), naming the file, line and field', () => {
    const error = refusal(policyOf('rw'), 'x86');
    expect(error.message).toMatch(
      /^p\.json:5:\d+: domains\[0\]\.rights: x86 cannot give domain "data" \(PKRU domain 1\) rights "rw-"/,
    );
    expect(error.message).toContain('expressible: rwx, --x, r-x');
  });

  it('refuses a write-only domain in a rights change, naming the change', () => {
    const policy = policyOf('rwx', { changes: [{ atAccess: 1, set: { data: 'wx' } }] });
    expect(refusal(policy, 'x86').message).toMatch(/^p\.json:\d+:\d+: changes\[0\]\.set\.data: .*rights "-wx"/);
  });

  it('refuses a policy with more domains than the 15 keys besides key 0', () => {
    const error = refusal(manyDomains(16), 'x86');
    expect(error.field).toBe('domains[15].name');
    expect(error.reason).toMatch(/no domain left for "d15": x86\.pku \(PKRU\) has 16 domains, 15 of them/);
  });
});

describe('replay on arm64 POE', () => {
  it('expresses a write-only overlay: loads and fetches fault, stores pass', async () => {
    const policy = policyOf('w');
    const { mapping } = architectureRules(policy, 'arm64-poe');
    expect(mapping).toMatchObject({ space: 'arm64.por_el0', register: 'POR_EL0', scope: 'thread', domains: [0, 1] });
    // A modify reads too, so it faults with the load.
    expect(faultKinds(await replayOn('arm64-poe', policy, EVERY_KIND))).toEqual(['fetch', 'load', 'modify']);
  });

  it('denies fetches where the rights leave out "x"', async () => {
    expect(faultKinds(await replayOn('arm64-poe', policyOf('rw'), EVERY_KIND))).toEqual(['fetch']);
  });

  it('has 7 overlays besides index 0', () => {
    const error = refusal(manyDomains(8), 'arm64-poe');
    expect(error.field).toBe('domains[7].name');
  });
});

describe('replay on POWER', () => {
  it('skips the reserved keys and denies fetches through IAMR', async () => {
    const policy = policyOf('rw');
    const { mapping } = architectureRules(policy, 'power');
    expect(mapping).toMatchObject({ space: 'power.amr', register: 'AMR/IAMR', scope: 'thread' });
    expect(mapping.domains).toEqual([0, 4]);
    expect(faultKinds(await replayOn('power', policy, EVERY_KIND))).toEqual(['fetch']);
  });

  it('a read-only key stops stores and modifies', async () => {
    expect(faultKinds(await replayOn('power', policyOf('rx'), EVERY_KIND))).toEqual(['store', 'modify']);
  });
});

describe('replay on a scheme', () => {
  it('page tables give one set of rights for every thread', () => {
    expect(architectureRules(policyOf('r'), 'pagetable').mapping.scope).toBe('address-space');
  });

  it('refuses an architecture with no domains for user pages', () => {
    let error: unknown;
    try {
      architectureRules(policyOf('rwx'), 'capability');
    } catch (caught) {
      error = caught;
    }
    expect(isDomainError(error, 'unsupported')).toBe(true);
    expect(String(error)).toMatch(/capability has no protection domains for user pages/);
  });
});

describe('threads', () => {
  // Thread 1 opens the data domain at the instruction 0x401000 (its WRPKRU); thread 2 never does.
  const policy = policyOf('x', { changes: [{ onFetch: '0x401000', set: { data: 'rwx' } }] });
  const trace = ['I  00401000,4', ' S 00600000,8', 'T 2', ' S 00600000,8', 'T 1', ' S 00600000,8', ''].join('\n');

  it('with per-thread rights (PKRU) an open window of one thread does not open another', async () => {
    const report = await replayOn('x86', policy, trace);
    expect(report.threads).toBe(2);
    expect(report.firstFaults.map((f) => [f.index, f.thread])).toEqual([[2, 2]]);
  });

  it('with rights shared by every thread (page tables) the window is open for all', async () => {
    const report = await replayOn('pagetable', policy, trace);
    expect(report.faults).toBe(0);
  });

  it('the policy table alone keeps one set of rights, as before threads', async () => {
    expect((await replayOn(undefined, policy, trace)).faults).toBe(0);
  });

  it('an atAccess change with "thread" changes that thread only, even while another runs', async () => {
    const closing = policyOf('rwx', { changes: [{ atAccess: 0, thread: 2, set: { data: 'x' } }] });
    const report = await replayOn('x86', closing, trace);
    expect(report.firstFaults.map((f) => [f.index, f.thread])).toEqual([[2, 2]]);
  });

  it('an atAccess change without "thread" changes the thread that makes that access', async () => {
    const closing = policyOf('rwx', { changes: [{ atAccess: 2, set: { data: 'x' } }] });
    const report = await replayOn('x86', closing, trace);
    // Access 2 is thread 2's first store: thread 1's store after it still passes.
    expect(report.firstFaults.map((f) => [f.index, f.thread])).toEqual([[2, 2]]);
  });

  it('"thread" goes with atAccess only', () => {
    expect(() => policyOf('rwx', { changes: [{ onFetch: '0x401000', thread: 2, set: { data: 'x' } }] })).toThrow(
      /changes\[0\]\.thread: an "onFetch" change applies to the thread that fetches/,
    );
  });
});
