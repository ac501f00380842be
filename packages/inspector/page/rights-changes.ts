import type { RegisterView, RunEventJson, Timeline } from './types';

/** A key whose rights differ between before an entry and after its return. */
export interface KeyChange {
  readonly key: number;
  readonly before: string;
  readonly after: string;
}

/**
 * An entry (interrupt, NMI, exception) after whose return the CPU's rights are not what they were
 * before it: for an interrupt or NMI that is corruption (the interrupted code cannot know; RFC V1
 * of the PKS series), for an exception it may be a fault callback's deliberate pks_update_exception.
 */
export interface RightsChange {
  readonly cpu: number;
  readonly vector: string;
  readonly kind: string;
  readonly entrySeq: number;
  readonly exitSeq: number;
  /** The first step at which the change no longer shows (a switch, or the rights restored). */
  readonly untilSeq: number;
  readonly register: string;
  readonly keys: readonly KeyChange[];
  readonly corrupting: boolean;
}

type Ev = RunEventJson;

function supervisorAt(timeline: Timeline, seq: number, cpu: number): RegisterView | null {
  return timeline.steps[seq]?.cpus[cpu]?.supervisor ?? null;
}

/** Find every entry whose return left the CPU's rights changed. */
export function rightsChanges(timeline: Timeline): RightsChange[] {
  const events = timeline.events;
  const open = new Map<string, Ev>();
  const out: RightsChange[] = [];
  const isWrite = (e: Ev | undefined, cpu: number) => !!e && e.type === 'rights_write' && e.cpu === cpu;
  for (const e of events) {
    if (e.type === 'entry') open.set(`${e.cpu}/${e.vector}/${e.depth}`, e);
    if (e.type !== 'exit') continue;
    const entry = open.get(`${e.cpu}/${e.vector}/${e.depth}`);
    if (!entry || entry.type !== 'entry') continue;
    open.delete(`${e.cpu}/${e.vector}/${e.depth}`);
    // Before: ahead of the entry code's own register writes; after: past the exit code's restore.
    let b = entry.seq - 1;
    while (b > 0 && isWrite(events[b], e.cpu)) b--;
    let a = e.seq;
    while (isWrite(events[a + 1], e.cpu)) a++;
    const before = supervisorAt(timeline, b, e.cpu);
    const after = supervisorAt(timeline, a, e.cpu);
    if (!before || !after || before.value === after.value) continue;
    const keys: KeyChange[] = [];
    for (const k of after.keys) {
      const was = before.keys.find((x) => x.key === k.key);
      if (was && was.rights !== k.rights) keys.push({ key: k.key, before: was.rights, after: k.rights });
    }
    let until = a + 1;
    while (until < events.length) {
      const x = events[until];
      if (x.type === 'switch' && x.cpu === e.cpu) break;
      if (supervisorAt(timeline, until, e.cpu)?.value === before.value) break;
      until++;
    }
    out.push({
      cpu: e.cpu,
      vector: e.vector,
      kind: entry.kind,
      entrySeq: entry.seq,
      exitSeq: e.seq,
      untilSeq: until,
      register: after.register,
      keys,
      corrupting: entry.kind !== 'exception',
    });
  }
  return out;
}

export function describeChange(c: RightsChange, owner: (key: number) => string): string {
  const keys = c.keys.map((k) => `key ${k.key}${owner(k.key)}: ${k.before} \u2192 ${k.after}`).join(', ');
  return `${c.vector} returned with different ${c.register}: ${keys}`;
}
