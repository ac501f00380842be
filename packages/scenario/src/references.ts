import { echoValue, MACHINE_EVENT_NAMES } from '@pkeysim/core';
import type { PathSegment } from './load';
import type { Scenario, ScenarioOp } from './schema';
import { type Bindings, opSpec } from './ops';

export interface ReferenceProblem {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

const PAGE = 4096;

/** A program together with where it sits in the file and whether it runs in a handler. */
interface ProgramSite {
  readonly ops: readonly ScenarioOp[];
  readonly path: readonly PathSegment[];
  readonly inHandler: boolean;
  /** In a signal handler's program (a thread may exit from there, as pkey_sighandler_tests.c's handlers do). */
  readonly inSignalHandler?: boolean;
}

/** Every program in the scenario, nested ones included, depth first. */
export function eachProgram(s: Scenario, visit: (site: ProgramSite) => void): void {
  const walk = (site: ProgramSite) => {
    visit(site);
    site.ops.forEach((o, i) => {
      const at = [...site.path, i];
      if (o.op === 'interrupt' || o.op === 'nmi') walk({ ops: o.program, path: [...at, 'program'], inHandler: true });
      // A signal handler runs to completion inside the access that raised the signal, like an interrupt handler.
      else if (o.op === 'signal' || o.op === 'sigaction')
        walk({ ops: o.handler, path: [...at, 'handler'], inHandler: true, inSignalHandler: true });
      // A fault callback runs inside the faulting access, to completion.
      else if (o.op === 'set_fault_callback') walk({ ops: o.program, path: [...at, 'program'], inHandler: true });
      else if (o.op === 'fork' || o.op === 'clone')
        walk({ ops: o.program, path: [...at, 'program'], inHandler: false });
      else if (o.op === 'repeat')
        walk({
          ops: o.program,
          path: [...at, 'program'],
          inHandler: site.inHandler,
          inSignalHandler: site.inSignalHandler,
        });
    });
  };
  s.threads.forEach((t, i) => walk({ ops: t.program, path: ['threads', i, 'program'], inHandler: false }));
  s.inject.forEach((inj, i) => {
    if (inj.kind !== 'stray_write') walk({ ops: inj.program, path: ['inject', i, 'program'], inHandler: true });
  });
  s.schedule.interrupts?.forEach((src, i) =>
    walk({ ops: src.program, path: ['schedule', 'interrupts', i, 'program'], inHandler: true }),
  );
}

/**
 * Checks the schema cannot express: names refer to something declared, CPUs exist, injections
 * point at real ops, data fits its object. Returns every problem with its field path.
 */
export function checkReferences(s: Scenario): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const bad = (path: readonly PathSegment[], message: string) => problems.push({ path, message });
  const cpus = s.machine.cpus;
  const checkCpu = (cpu: number | undefined, path: readonly PathSegment[]) => {
    if (cpu !== undefined && cpu >= cpus)
      bad(path, `CPU ${cpu} does not exist (the machine has ${cpus}: 0..${cpus - 1})`);
  };

  // Names bound anywhere: keys, objects, views, threads.
  const keyNames = new Set(s.keys.map((k) => k.name));
  const objects = new Map(s.memory.map((m) => [m.name, m.pages * PAGE]));
  const threads = new Set<string>();
  // Sets, not findIndex: the check stays linear however many entries a file declares.
  const seenKeys = new Set<string>();
  s.keys.forEach((k, i) => {
    if (seenKeys.has(k.name)) bad(['keys', i, 'name'], `key "${k.name}" is declared twice`);
    seenKeys.add(k.name);
  });
  const seenObjects = new Set<string>();
  s.memory.forEach((m, i) => {
    if (seenObjects.has(m.name)) bad(['memory', i, 'name'], `object "${m.name}" is declared twice`);
    seenObjects.add(m.name);
  });
  const addThread = (name: string, path: readonly PathSegment[]) => {
    if (threads.has(name)) bad(path, `thread "${name}" is declared twice`);
    threads.add(name);
  };
  s.threads.forEach((t, i) => {
    addThread(t.name, ['threads', i, 'name']);
    checkCpu(t.cpu, ['threads', i, 'cpu']);
  });
  const bindings: Bindings = {
    key: (name) => keyNames.add(name),
    object: (name, bytes) => objects.set(name, typeof bytes === 'number' ? bytes : (objects.get(bytes.sameAs) ?? 0)),
  };
  eachProgram(s, ({ ops, path }) =>
    ops.forEach((o, i) => {
      opSpec(o.op)?.bind?.(o as never, bindings);
      if (o.op === 'fork' || o.op === 'clone') {
        addThread(o.name, [...path, i, 'name']);
        checkCpu(o.cpu, [...path, i, 'cpu']);
      }
    }),
  );

  const checkKey = (key: string | number | undefined, path: readonly PathSegment[]) => {
    if (typeof key === 'string' && !keyNames.has(key))
      bad(path, `unknown key "${key}" (declare it under keys, or bind it with alloc_key ... as)`);
  };
  const checkObject = (name: string, path: readonly PathSegment[]) => {
    if (!objects.has(name)) bad(path, `unknown object "${name}" (declare it under memory, or bind it with map ... as)`);
  };
  const checkThread = (name: string | undefined, path: readonly PathSegment[]) => {
    if (name !== undefined && !threads.has(name)) bad(path, `unknown thread "${name}"`);
  };
  const checkFits = (
    v: { object: string; offset: number; bytes?: number[] | string; text?: string; fill?: number; length?: number },
    path: readonly PathSegment[],
  ) => {
    const size = objects.get(v.object);
    if (size === undefined) return;
    const length = dataLength(v) ?? 1;
    if (v.offset + length > size)
      bad([...path, 'offset'], `${v.offset}+${length} bytes run past the end of "${v.object}" (${size} bytes)`);
  };

  s.memory.forEach((m, i) => {
    checkKey(m.key, ['memory', i, 'key']);
    const length = dataLength(m);
    if (length !== undefined && length > m.pages * PAGE)
      bad(['memory', i], `the initial data (${length} bytes) is larger than the object (${m.pages * PAGE} bytes)`);
  });

  eachProgram(s, ({ ops, path, inHandler, inSignalHandler }) =>
    ops.forEach((o, i) => {
      const at = [...path, i];
      const spec = opSpec(o.op);
      if (spec) {
        spec.check?.(o as never, {
          scenario: s,
          at,
          inHandler,
          inSignalHandler: inSignalHandler === true,
          bad: (field, message) => bad([...at, ...field], message),
          key: (ref, field = 'key') => checkKey(ref, [...at, field]),
          object: (name, field = 'object') => checkObject(name, [...at, field]),
          fits: (v) => checkFits(v, at),
          cpu: (cpu, field = 'cpu') => checkCpu(cpu, [...at, field]),
        });
        return;
      }
      // The ops the driver runs itself (run.ts): migrate and the nesting ones.
      if (o.op === 'migrate') {
        if (inHandler)
          bad(
            [...at, 'op'],
            'migrate is not allowed in an interrupt, NMI or signal handler (handlers run to completion)',
          );
        checkCpu(o.cpu, [...at, 'cpu']);
      } else if (o.op === 'fork' && inHandler)
        bad([...at, 'op'], 'fork is not allowed in an interrupt, NMI or signal handler');
      // A signal handler may start a thread (pthread_create from a handler); interrupt handlers may not.
      else if (o.op === 'clone' && inHandler && !inSignalHandler)
        bad([...at, 'op'], 'clone is not allowed in an interrupt or NMI handler or a fault callback');
      if (o.op === 'clone') checkObject(o.stack, [...at, 'stack']);
      if (o.op === 'set_fault_callback') checkKey(o.key, [...at, 'key']);
    }),
  );

  const threadByName = new Map<string, Scenario['threads'][number]>();
  for (const t of s.threads) if (!threadByName.has(t.name)) threadByName.set(t.name, t);
  s.inject.forEach((inj, i) => {
    const at: PathSegment[] = ['inject', i];
    const thread = threadByName.get(inj.at.thread);
    if (!thread)
      bad(
        [...at, 'at', 'thread'],
        `unknown thread "${inj.at.thread}" (injections attach to a thread declared under threads)`,
      );
    else if (inj.at.op >= thread.program.length)
      bad(
        [...at, 'at', 'op'],
        `thread "${thread.name}" has ops 0..${thread.program.length - 1}; there is no op ${inj.at.op}`,
      );
    if (inj.kind === 'stray_write') {
      checkObject(inj.object, [...at, 'object']);
      checkFits(inj, at);
      checkCpu(inj.cpu, [...at, 'cpu']);
    }
  });

  if (s.btrfs_debug) {
    checkKey(s.btrfs_debug.key, ['btrfs_debug', 'key']);
    s.btrfs_debug.objects.forEach((o, i) => checkObject(o, ['btrfs_debug', 'objects', i]));
  }

  const e = s.expect;
  e.faults?.forEach((f, i) => {
    checkThread(f.thread, ['expect', 'faults', i, 'thread']);
    if (f.object !== undefined) checkObject(f.object, ['expect', 'faults', i, 'object']);
    checkKey(f.key, ['expect', 'faults', i, 'key']);
  });
  e.memory?.forEach((m, i) => {
    checkObject(m.object, ['expect', 'memory', i, 'object']);
    checkFits(m, ['expect', 'memory', i]);
  });
  e.rights?.forEach((r, i) => {
    checkThread(r.thread, ['expect', 'rights', i, 'thread']);
    checkKey(r.key, ['expect', 'rights', i, 'key']);
  });
  for (const name of Object.keys(e.threads ?? {})) checkThread(name, ['expect', 'threads', name]);
  for (const name of Object.keys(s.costs ?? {})) {
    if (!MACHINE_EVENT_NAMES.includes(name))
      bad(['costs', name], `unknown cost event ${echoValue(name)} (known: ${MACHINE_EVENT_NAMES.join(', ')})`);
  }
  if (s.schedule.policy === 'round-robin' && s.schedule.interrupts)
    bad(['schedule', 'interrupts'], 'interrupt sources need policy: random (use inject for a round-robin schedule)');
  return problems;
}

/** The number of bytes a data spec stands for (undefined when it gives none). */
export function dataLength(v: {
  bytes?: number[] | string;
  text?: string;
  fill?: number;
  length?: number;
}): number | undefined {
  if (v.bytes !== undefined)
    return typeof v.bytes === 'string' ? v.bytes.replace(/\s+/g, '').length / 2 : v.bytes.length;
  if (v.text !== undefined) return new TextEncoder().encode(v.text).length;
  if (v.fill !== undefined) return v.length;
  return v.length;
}

/** The bytes a data spec stands for (undefined when it gives none). */
export function dataBytes(v: {
  bytes?: number[] | string;
  text?: string;
  fill?: number;
  length?: number;
}): Uint8Array | undefined {
  if (v.bytes !== undefined) {
    if (typeof v.bytes !== 'string') return Uint8Array.from(v.bytes);
    const hex = v.bytes.replace(/\s+/g, '');
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  if (v.text !== undefined) return new TextEncoder().encode(v.text);
  if (v.fill !== undefined && v.length !== undefined) return new Uint8Array(v.length).fill(v.fill);
  return undefined;
}
