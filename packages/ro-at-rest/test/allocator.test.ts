import { describe, expect, it } from 'vitest';
import { createCredCache, createPolicyTable, RoAllocator, type RoAllocatorOptions, userCred } from '../src';
import { boot, runThread } from './helpers';

const EUID = 16;
const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);

function setup(options: RoAllocatorOptions = {}, kernel = boot()) {
  const ro = new RoAllocator(kernel, options);
  runThread(kernel, 'task', 0);
  const creds = createCredCache(ro);
  const cred = creds.cache.alloc(0, userCred(1000));
  return { kernel, ro, creds, cred };
}

describe('read-only-at-rest objects', () => {
  it('live in slabs keyed with the write-disabled key and read freely at rest', () => {
    const { kernel, ro, creds, cred } = setup();
    expect(ro.state).toBe('enabled');
    expect(kernel.keyAt(cred.address)).toBe(ro.roKey);
    expect(kernel.keyDefault(ro.roKey!)).toBe(0x2);
    const { cpu } = runThread(kernel, 'reader', 1);
    expect(creds.cache.read(cpu.id, cred)).toEqual(userCred(1000));
    expect(creds.cache.objectSize).toBe(48);
  });

  it('the declared writer changes the object inside its window; the key is write-disabled again after', () => {
    const { kernel, ro, creds, cred } = setup();
    ro.roWrite(0, cred, creds.commit_creds, { ...userCred(1000), euid: 0 });
    expect(creds.cache.peek(cred).euid).toBe(0);
    expect(kernel.space!.denialsOf(kernel.cpu(0).current.pkrs, ro.roKey!)).toBe(0x2);
    expect(kernel.cpu(0).write(cred.address + EUID, u32(5)).ok).toBe(false);
  });

  it('a stray write is caught and reported with the type, the field and the writer to use', () => {
    const { kernel, ro, creds, cred } = setup();
    const { cpu } = runThread(kernel, 'exploit', 1);
    const result = cpu.write(cred.address + EUID, u32(0));
    expect(result.ok).toBe(false);
    expect(creds.cache.peek(cred).euid).toBe(1000);
    expect(ro.reports).toEqual([
      expect.objectContaining({
        type: 'cred',
        field: 'euid',
        offset: EUID,
        writers: ['commit_creds'],
        outcome: 'oops',
      }),
    ]);
    expect(ro.reports[0].message).toMatch(
      /stray write to read-only cred\.euid .* by exploit \(tid \d+\); cred is written only by commit_creds\(\)/,
    );
    expect(kernel.log.lines()).toContain(`WARNING: ${ro.reports[0].message}`);
  });

  it('the window is open for the running thread only', () => {
    const { kernel, ro, creds, cred } = setup();
    const window = ro.roWriteBegin(0, cred, creds.commit_creds);
    const { cpu } = runThread(kernel, 'other', 1);
    expect(cpu.write(cred.address + EUID, u32(0)).ok).toBe(false);
    window.context.set({ euid: 7 });
    ro.roWriteEnd(window);
    expect(creds.cache.peek(cred).euid).toBe(7);
    expect(() => ro.roWriteEnd(window)).toThrow(/already closed/);
    expect(() => window.context.set({ euid: 8 })).toThrow(/window is closed/);
  });

  it('a write after the window closed, through a kept pointer, is caught', () => {
    const { kernel, ro, creds, cred } = setup();
    ro.roWrite(0, cred, creds.commit_creds, userCred(1001));
    const kept = cred.address + EUID;
    expect(kernel.cpu(0).write(kept, u32(0)).ok).toBe(false);
    expect(creds.cache.peek(cred).euid).toBe(1001);
    expect(ro.reports.at(-1)!.field).toBe('euid');
  });

  it('refuses a writer not declared for the type, and a writer of another type', () => {
    const { ro, creds, cred } = setup();
    const policy = createPolicyTable(ro, 0, [{ rule: 1, subject: 2, object: 3, allow: 4 }]);
    expect(() => ro.roWrite(0, cred, policy.policy_load as never, userCred(0))).toThrow(
      /policy_load is not a declared writer of cred \(declared: commit_creds\)/,
    );
    const rogue = { name: 'rogue', cache: creds.cache, body: () => undefined };
    expect(() => ro.roWrite(0, cred, rogue, userCred(0))).toThrow(/rogue is not a declared writer of cred/);
    expect(creds.cache.peek(cred)).toEqual(userCred(1000));
  });

  it('windows nest and restore the rights the thread had before', () => {
    const { kernel, ro, creds, cred } = setup();
    const other = creds.cache.alloc(0, userCred(2000));
    ro.roWrite(0, cred, creds.commit_creds, userCred(1));
    const outer = ro.roWriteBegin(0, cred, creds.commit_creds);
    ro.roWrite(0, other, creds.commit_creds, userCred(3));
    outer.context.set({ uid: 9 });
    ro.roWriteEnd(outer);
    expect(creds.cache.peek(cred).uid).toBe(9);
    expect(kernel.space!.denialsOf(kernel.cpu(0).current.pkrs, ro.roKey!)).toBe(0x2);
  });

  it('a writer that throws still closes its window', () => {
    const { kernel, ro, cred, creds } = setup();
    const bad = creds.cache.writer<number>('bad_writer', () => {
      throw new Error('boom');
    });
    expect(() => ro.roWrite(0, cred, bad, 0)).toThrow('boom');
    expect(kernel.space!.denialsOf(kernel.cpu(0).current.pkrs, ro.roKey!)).toBe(0x2);
  });

  it('a stray write to a free slot names the type as well', () => {
    const { kernel, ro, creds } = setup();
    const spare = creds.cache.alloc(0, userCred(5));
    creds.cache.free(spare);
    expect(kernel.cpu(0).write(spare.address, u32(1)).ok).toBe(false);
    expect(ro.reports[0]).toMatchObject({ type: 'cred', outcome: 'oops' });
    expect(ro.reports[0].message).toMatch(/a free read-only cred slot/);
    expect(() => creds.cache.read(0, spare)).toThrow(/not a live cred/);
  });

  it('validates values and type specs before writing', () => {
    const { ro, creds, cred } = setup();
    expect(() => creds.cache.alloc(0, { ...userCred(1), uid: -1 })).toThrow(/must be a u32/);
    expect(() => ro.roWrite(0, cred, creds.commit_creds, { ...userCred(1), nope: 1 } as never)).toThrow(
      /has no field nope/,
    );
    expect(() => ro.createCache({ name: 'Bad-Name', fields: ['a'] })).toThrow(/C identifier/);
    expect(() => ro.createCache({ name: 'cred', fields: ['a'] })).toThrow(/exists/);
    expect(() => new RoAllocator(ro.kernel, { mode: 'soft' as never })).toThrow(/mode must be/);
  });
});

describe('relaxed mode', () => {
  it('warns once, lets the stray write land and still reports each one', () => {
    const { kernel, ro, creds, cred } = setup({ mode: 'relaxed' });
    const { cpu } = runThread(kernel, 'exploit', 1);
    expect(cpu.write(cred.address + EUID, u32(0)).ok).toBe(true);
    expect(creds.cache.peek(cred).euid).toBe(0);
    const second = runThread(kernel, 'exploit2', 1);
    expect(second.cpu.write(cred.address, u32(0)).ok).toBe(true);
    expect(ro.reports.map((r) => r.outcome)).toEqual(['allowed', 'allowed']);
    expect(kernel.log.lines().filter((l) => l.startsWith('WARNING: ro-at-rest'))).toHaveLength(1);
  });
});

describe('without a key', () => {
  it('protection off: objects are on the default key and a stray write lands unreported', () => {
    const { kernel, ro, creds, cred } = setup({ protection: false });
    expect(ro.state).toBe('disabled');
    expect(kernel.keyAt(cred.address)).toBe(0);
    expect(kernel.cpu(0).write(cred.address + EUID, u32(0)).ok).toBe(true);
    expect(creds.cache.peek(cred).euid).toBe(0);
    expect(ro.reports).toEqual([]);
  });

  it('a CPU without PKS: unsupported, and writers still work', () => {
    const { kernel, ro, creds, cred } = setup({}, boot({ features: { supervisorDomains: false } }));
    expect(ro.state).toBe('unsupported');
    expect(kernel.log.lines().some((l) => l.includes('-EOPNOTSUPP'))).toBe(true);
    ro.roWrite(0, cred, creds.commit_creds, userCred(3));
    expect(creds.cache.peek(cred).uid).toBe(3);
  });

  it('no key to be had: every dynamic key taken gives -ENOSPC; a static design without the key gives no-key', () => {
    const dynamic = boot({ keyDesign: 'dynamic' });
    for (let i = 1; i < 16; i++) dynamic.pks_key_alloc(`hog${i}`);
    const a = new RoAllocator(dynamic);
    expect(a.state).toBe('no-key');
    expect(dynamic.log.lines().some((l) => l.includes('-ENOSPC'))).toBe(true);
    const b = new RoAllocator(boot({ consumers: [{ name: 'PKS_KEY_TEST', defaultRights: 'ad' }] }));
    expect(b.state).toBe('no-key');
  });

  it('a dynamically allocated key (access-disabled at rest): reads are relaxed to write-disabled, writes still fault', () => {
    const { kernel, ro, creds, cred } = setup({}, boot({ keyDesign: 'dynamic' }));
    expect(ro.state).toBe('enabled');
    const { cpu } = runThread(kernel, 'reader', 1);
    expect(creds.cache.read(cpu.id, cred).uid).toBe(1000);
    expect(cpu.write(cred.address, u32(0)).ok).toBe(false);
  });
});
