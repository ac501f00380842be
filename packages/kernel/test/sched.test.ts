import { MachineEvent, Privilege } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { KernelError, Scheduler, type SchedEvent } from '../src';
import { boot, snapshot, withBits, word } from './helpers';

describe('threads and the context switch', () => {
  it("restores the next thread's rights and keeps the previous thread's saved", () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const key = kernel.pks_key_alloc('k');
    const a = kernel.kthread_create('a', 0);
    const b = kernel.kthread_create('b', 0);
    cpu.switchTo(a);
    cpu.pks_set_readwrite(key);
    const switches = kernel.machine.events.get(0, MachineEvent.ContextSwitch);
    cpu.switchTo(b);
    expect(word(cpu.rights())).toBe(0x55555554);
    expect(word(a.pkrs)).toBe(withBits(0x55555554, key, 0));
    cpu.switchTo(a);
    expect(word(cpu.rights())).toBe(withBits(0x55555554, key, 0));
    expect(kernel.machine.events.get(0, MachineEvent.ContextSwitch) - switches).toBe(2);
    expect(a.state).toBe('running');
    expect(b.state).toBe('runnable');
  });

  it('lets a migrated thread resume on another CPU with its rights', () => {
    const kernel = boot();
    const key = kernel.pks_key_alloc('k');
    const a = kernel.kthread_create('a', 0);
    kernel.cpu(0).switchTo(a);
    kernel.cpu(0).pks_set_readonly(key);
    kernel.cpu(0).switchTo(kernel.idle(0));
    kernel.migrate(a, 1);
    kernel.cpu(1).switchTo(a);
    expect(word(kernel.cpu(1).rights())).toBe(withBits(0x55555554, key, 2));
    expect(word(kernel.cpu(0).rights())).toBe(0x55555554);
  });

  it('starts kernel threads at PKS_INIT_VALUE without user state', () => {
    const kernel = boot();
    kernel.cpu(0).pks_set_readwrite(kernel.pks_key_alloc('k'));
    const t = kernel.kthread_create('kt', 0);
    expect(word(t.pkrs)).toBe(0x55555554);
    expect(t.pkru).toBeUndefined();
  });

  it("fork starts the child at PKS_INIT_VALUE but inherits the parent's PKRU (XSAVE copy)", () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const key = kernel.pks_key_alloc('k');
    const parent = kernel.task_create('parent', 0);
    cpu.switchTo(parent);
    cpu.pks_set_readwrite(key);
    const pku = kernel.machine.domainSpace(Privilege.User)!;
    pku.load(0, [0x55555550]);
    const child = kernel.fork(parent, 'child');
    expect(word(child.pkrs)).toBe(0x55555554);
    expect(child.pkru).toEqual([0x55555550]);
    expect(child.kind).toBe('task');
  });

  it('saves PKRU in the XSAVE slot on switch-out and restores it on switch-in', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const pku = kernel.machine.domainSpace(Privilege.User)!;
    const a = kernel.task_create('a', 0);
    const b = kernel.task_create('b', 0);
    cpu.switchTo(a);
    pku.load(0, [0x55555500]);
    cpu.switchTo(b);
    expect(a.pkru).toEqual([0x55555500]);
    expect(word(pku.read(0))).toBe(0x55555554);
    cpu.switchTo(a);
    expect(word(pku.read(0))).toBe(0x55555500);
  });

  it.each([
    ["a thread on another CPU's runqueue", 'migrate it first'],
    ['a thread already running elsewhere', 'already running'],
    ['a dead thread', 'is dead'],
  ])('refuses to switch to %s and changes nothing', (label, message) => {
    const kernel = boot();
    const t = kernel.kthread_create('t', 1);
    if (label.includes('running')) kernel.cpu(1).switchTo(t);
    if (label.includes('dead')) {
      kernel.cpu(1).switchTo(t);
      kernel.exitCurrent(1);
    }
    const before = snapshot(kernel);
    expect(() => kernel.cpu(0).switchTo(t)).toThrow(message);
    expect(snapshot(kernel)).toBe(before);
  });

  it('refuses to schedule while atomic (inside an interrupt handler or kmap_atomic)', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const t = kernel.kthread_create('t', 0);
    cpu.interrupt(() => {
      expect(() => cpu.switchTo(t)).toThrow(/scheduling while atomic/);
    });
    const address = cpu.kmap_atomic(kernel.alloc_page());
    expect(() => cpu.switchTo(t)).toThrow(/scheduling while atomic/);
    cpu.kunmap_atomic(address);
    cpu.switchTo(t);
    expect(cpu.current).toBe(t);
  });

  it('refuses to migrate a running thread, an idle thread, or to a missing CPU', () => {
    const kernel = boot();
    const t = kernel.kthread_create('t', 0);
    const u = kernel.kthread_create('u', 0);
    kernel.cpu(0).switchTo(t);
    const before = snapshot(kernel);
    expect(() => kernel.migrate(t, 1)).toThrow(KernelError);
    expect(() => kernel.migrate(kernel.idle(1), 0)).toThrow(/idle/);
    expect(() => kernel.migrate(u, 5)).toThrow(/CPU 5 does not exist/);
    expect(snapshot(kernel)).toBe(before);
  });
});

describe('the seeded scheduler', () => {
  function trace(seed: number): { events: SchedEvent[]; finalRights: string[] } {
    const kernel = boot({ cpus: 3, seed });
    const key = kernel.pks_key_alloc('k');
    const scheduler = new Scheduler(kernel, seed, { preempt: 0.3, migrate: 0.2, interrupt: 0.2 });
    const page = kernel.vmap([kernel.alloc_page()], { key });
    scheduler.onInterrupt((cpu) => {
      expect(cpu.rights()).toEqual(kernel.initValue);
    });
    for (let i = 0; i < 4; i++) {
      const t = kernel.kthread_create(`worker${i}`, i % 3);
      scheduler.start(t, function* (self) {
        for (let round = 0; round < 5; round++) {
          self.cpu.pks_set_readwrite(key);
          yield;
          expect(self.cpu.write(page, new Uint8Array([round])).handledFaults).toBe(0);
          yield;
          self.cpu.pks_set_noaccess(key);
          yield;
        }
      });
    }
    const events = scheduler.run(5000);
    expect(scheduler.busy).toBe(false);
    return { events, finalRights: kernel.threads().map((t) => `${t.name}:${t.state}`) };
  }

  it('runs every body to completion with preemption, migration and interrupts, keeping each window open', () => {
    const { events } = trace(7);
    const actions = new Set(events.map((e) => e.action));
    for (const action of ['run', 'preempt', 'migrate', 'interrupt', 'finish']) expect(actions).toContain(action);
  });

  it('replays exactly with the same seed and differs with another', () => {
    expect(trace(42)).toEqual(trace(42));
    expect(trace(42).events).not.toEqual(trace(43).events);
  });
});

describe('the scheduler at scale', () => {
  function workload(kernel: ReturnType<typeof boot>, scheduler: Scheduler, threads: number) {
    for (let i = 0; i < threads; i++)
      scheduler.start(kernel.kthread_create(`w${i}`, i % kernel.cpuCount), function* () {
        for (let n = 0; n < 1 + (i % 5); n++) yield;
      });
  }

  it('forgets a thread once its body finished: a step looks only at the unfinished ones', () => {
    const kernel = boot();
    const scheduler = new Scheduler(kernel, 3);
    workload(kernel, scheduler, 12);
    expect(scheduler.liveThreads).toBe(12);
    let finished = 0;
    while (scheduler.busy) {
      if (scheduler.step().action === 'finish') finished++;
      expect(scheduler.liveThreads).toBe(12 - finished);
    }
    expect(finished).toBe(12);
    expect(kernel.threads().filter((t) => t.state === 'dead')).toHaveLength(12);
  });

  it('runQuietly makes the very decisions run() reports, without building the trace', () => {
    const traced = boot();
    const a = new Scheduler(traced, 11);
    workload(traced, a, 9);
    const trace = a.run(10_000);
    const quiet = boot();
    const b = new Scheduler(quiet, 11);
    workload(quiet, b, 9);
    expect(b.runQuietly(10_000)).toBe(trace.length);
    expect(quiet.stats()).toEqual(traced.stats());
    expect(quiet.threads().map((t) => [t.name, t.state, t.cpu])).toEqual(
      traced.threads().map((t) => [t.name, t.state, t.cpu]),
    );
  });

  it('changes the runqueue version on every create, switch, migration and exit the scheduler counts from', () => {
    const kernel = boot();
    const seen = [kernel.runqueueVersion];
    const a = kernel.kthread_create('a', 0);
    seen.push(kernel.runqueueVersion);
    kernel.migrate(a, 1);
    seen.push(kernel.runqueueVersion);
    kernel.cpu(1).switchTo(a);
    seen.push(kernel.runqueueVersion);
    kernel.exitCurrent(1);
    seen.push(kernel.runqueueVersion);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('sees a thread moved by other code between steps: it runs only on its new CPU', () => {
    const kernel = boot();
    const scheduler = new Scheduler(kernel, 7, { preempt: 0.5, migrate: 0, interrupt: 0 });
    const cpusOf: Record<string, number[]> = { a: [], b: [] };
    for (const name of ['a', 'b'])
      scheduler.start(kernel.kthread_create(name, 0), function* (self) {
        for (let i = 0; i < 10; i++) {
          cpusOf[name].push(self.cpu.id);
          yield;
        }
      });
    // CPU 1 idles until CPU 0 switches to one of them; then move the other one to CPU 1.
    while (kernel.cpu(0).current.idle) scheduler.step();
    const waiting = kernel.threads().find((t) => !t.idle && t.state === 'runnable')!;
    kernel.migrate(waiting, 1);
    expect(scheduler.runQuietly(10_000)).toBeGreaterThan(0);
    expect(scheduler.busy).toBe(false);
    expect(cpusOf[waiting.name].length).toBe(10);
    expect(new Set(cpusOf[waiting.name])).toEqual(new Set([1]));
  });
});
