import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, ScenarioError } from '../src';

const run = (text: string) => runScenario(parseScenario(text, 's.yaml'));

const STRAY = (mode: string) => `
kernel: { fault_mode: ${mode} }
keys: [{ name: k }]
memory: [{ name: buf, pmem: true, key: k }]
threads:
  - name: t
    program:
      - { op: yield }
inject:
  - { kind: stray_write, at: { thread: t, op: 0 }, object: buf, bytes: "ff ff" }
expect:
  memory: [{ object: buf, bytes: "00 00", after_reboot: true }]
`;

describe('runScenario', () => {
  it('strict fault mode: a stray write to a keyed object oopses its thread and the bytes survive a reboot', () => {
    const result = run(STRAY('strict'));
    expect(result.passed).toBe(true);
    expect(result.faults.map((f) => f.event.outcome)).toEqual(['oops']);
  });

  it('relaxed fault mode: the stray write is warned about once, then lands (the memory assertion fails)', () => {
    const result = run(STRAY('relaxed'));
    expect(result.faults.map((f) => f.event.outcome)).toEqual(['handled']);
    expect(result.passed).toBe(false);
    expect(result.failures[0]).toMatchObject({ path: 'expect.memory[0]', line: 12 });
    expect(result.failures[0].message).toContain('2 of 2 byte(s) differ');
  });

  it('the random schedule is deterministic for a seed and differs between seeds', () => {
    const text = (seed: number) => `
seed: ${seed}
machine: { cpus: 2 }
schedule: { policy: random, preempt: 0.5, migrate: 0.3 }
threads:
${['a', 'b', 'c']
  .map((n) => `  - name: ${n}\n    program:\n      - op: repeat\n        times: 10\n        program: [{ op: yield }]\n`)
  .join('')}`;
    const trace = (seed: number) =>
      run(text(seed))
        .events.filter((e) => e.type === 'switch' || e.type === 'sched')
        .map((e) => JSON.stringify(e));
    expect(trace(3)).toEqual(trace(3));
    expect(trace(3)).not.toEqual(trace(4));
    expect(run(text(3)).threads.every((t) => t.state === 'finished')).toBe(true);
  });

  it('a forked child runs its own program, and sleep skips rounds', () => {
    const result = run(`
threads:
  - name: parent
    program:
      - op: fork
        name: child
        program: [{ op: alloc_key, as: c }]
      - { op: sleep, rounds: 2 }
      - { op: alloc_key, as: p }
expect: { threads: { parent: finished, child: finished } }
`);
    expect(result.passed).toBe(true);
    const allocs = result.events.filter((e) => e.type === 'op' && e.op === 'alloc_key').map((e) => e.thread);
    expect(allocs).toEqual(['child', 'parent']);
  });

  it('an op whose errno differs from its expect fails at that op', () => {
    const result = run('threads:\n  - name: t\n    program:\n      - { op: set_rights, key: 3, rights: rw }\n');
    expect(result.failures).toEqual([
      { line: 4, path: 'threads[0].program[0].expect', message: 'set_rights: expected ok, got EINVAL' },
    ]);
  });

  it('free_key of a key not in use succeeds: pks_key_free returns nothing in every version', () => {
    const result = run('threads:\n  - name: t\n    program:\n      - { op: free_key, key: 3 }\n');
    expect(result.failures).toEqual([]);
  });

  it('pks_version sets the design: v10 has the static keys, PKS_KEY_PGMAP_PROTECTION first', () => {
    const result = run(
      'kernel: { pks_version: v10 }\nkeys: [{ name: pg, owner: PKS_KEY_PGMAP_PROTECTION }]\nthreads:\n  - name: t\n    program:\n      - { op: check_rights, key: 1, rights: none }\n',
    );
    expect(result.failures).toEqual([]);
  });

  it('pks_version rfc without PKS: alloc_key gets -EINVAL as the RFC allocator returned', () => {
    const result = run(
      'machine: { features: { pks: false } }\nkernel: { pks_version: rfc }\nthreads:\n  - name: t\n    program:\n      - { op: alloc_key, as: k, expect: EINVAL }\n',
    );
    expect(result.failures).toEqual([]);
  });

  it('a key used before anything bound it is bad input, with its line', () => {
    const text =
      'threads:\n  - name: t\n    program:\n      - { op: set_rights, key: k, rights: rw }\n      - { op: alloc_key, as: k }\n';
    expect(() => run(text)).toThrow(ScenarioError);
    expect(() => run(text)).toThrow('s.yaml:4: threads[0].program[0].key: key "k" is not bound at this point');
  });

  it('user-space ops need a task', () => {
    expect(() => run('threads:\n  - name: t\n    program:\n      - { op: pkey_alloc, as: k }\n')).toThrow(
      's.yaml:4: threads[0].program[0].op: pkey_alloc is a user-space op: it runs in a thread of kind task',
    );
  });

  it('yielding inside kmap_atomic is "scheduling while atomic" when another thread needs the CPU', () => {
    const result = run(`
machine: { cpus: 1 }
memory: [{ name: buf }]
threads:
  - name: a
    program: [{ op: open, object: buf, via: kmap_atomic }, { op: yield }, { op: close, object: buf }]
  - name: b
    program: [{ op: yield }]
`);
    expect(result.passed).toBe(false);
    expect(result.failures[0].message).toContain('scheduling while atomic');
  });

  it('reports modeled cycles per CPU and per event, with the scenario overriding the defaults', () => {
    const text = (costs: string) =>
      `machine: { cpus: 2 }\n${costs}threads:\n  - name: t\n    cpu: 1\n    program: [{ op: alloc_key, as: k }, { op: set_rights, key: k, rights: rw }]\n`;
    const base = run(text(''));
    const dear = run(text('costs: { rights_write: 1000 }\n'));
    const rw = (r: ReturnType<typeof run>) => r.costs.events.find((e) => e.event === 'rights_write')!;
    expect(rw(base).cyclesEach).toBe(100);
    expect(rw(dear).cyclesEach).toBe(1000);
    expect(rw(dear).perCpu[0]).toBe(0);
    expect(rw(dear).perCpu[1]).toBe(rw(dear).cycles);
    expect(dear.costs.total).toBe(dear.costs.perCpu[0] + dear.costs.perCpu[1]);
    expect(
      runScenario(parseScenario(text(''), 's.yaml'), { costs: { rights_write: 7 } }).costs.model.rights_write,
    ).toBe(7);
  });
});
