/**
 * The Chrome Trace Event format (JSON object form), which Perfetto (ui.perfetto.dev) and
 * chrome://tracing open: https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
 * One process per simulated machine, one track (tid) per CPU plus one for the kernel log.
 *
 * Time: `ts` is in the format's microseconds, and pkeysim writes the step (the event's sequence
 * number in the run's log) there: 1 µs in the viewer is one step of the simulation, not wall time.
 * Modeled cycles are a counter track beside it (docs/timeline.md).
 */
import type { RunEvent } from '@pkeysim/scenario';
import type { CpuView, RegisterView, Timeline } from './model';

/** An event phase: B(egin), E(nd), i(nstant), C(ounter) or M(etadata). */
export type TracePhase = 'B' | 'E' | 'i' | 'C' | 'M';

/** One event of a Chrome Trace Event file. */
export interface TraceEvent {
  readonly name: string;
  readonly ph: TracePhase;
  readonly ts: number;
  readonly pid: number;
  readonly tid: number;
  readonly cat?: string;
  /** Scope of an instant event: thread (track), process or global. */
  readonly s?: 't' | 'p' | 'g';
  readonly args?: Record<string, unknown>;
}

/** A Chrome Trace Event file in JSON object form. */
export interface TraceFile {
  readonly traceEvents: TraceEvent[];
  readonly displayTimeUnit: 'ms' | 'ns';
  readonly otherData: Record<string, string | number | boolean>;
}

/** The one process: a trace file holds one machine (campaigns would add more, one pid each). */
const PID = 1;

/** Lines of the kernel log that are oops or panic reports. */
const OOPS_LINE = /\b(Oops|BUG|Kernel panic|panic)\b/;

/** "rw" per key, as Perfetto shows args: { "key 0": "rw", "key 1": "--", ... }. */
function rightsArgs(view: RegisterView | null | undefined): Record<string, string> | undefined {
  if (!view) return undefined;
  return Object.fromEntries(view.keys.map((k) => [`key ${k.key}`, k.rights]));
}

function registerOn(cpu: CpuView | undefined, register: string): RegisterView | null | undefined {
  if (!cpu) return undefined;
  if (cpu.supervisor?.register === register) return cpu.supervisor;
  if (cpu.user?.register === register) return cpu.user;
  return undefined;
}

/** Keys a register leaves open for some access (anything but "--"). */
function openKeys(view: RegisterView | null): number {
  return view ? view.keys.filter((k) => /[rw]/.test(k.rights)).length : 0;
}

/** The timeline as a Chrome Trace Event file. */
export function toTraceEvents(timeline: Timeline): TraceFile {
  const out: TraceEvent[] = [];
  const logTid = timeline.cpus;
  out.push({
    name: 'process_name',
    ph: 'M',
    ts: 0,
    pid: PID,
    tid: 0,
    args: { name: `${timeline.name} (${timeline.arch}, ${timeline.cpus} CPU${timeline.cpus > 1 ? 's' : ''})` },
  });
  for (let cpu = 0; cpu < timeline.cpus; cpu++) {
    out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: cpu, args: { name: `CPU ${cpu}` } });
    out.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: PID, tid: cpu, args: { sort_index: cpu } });
  }
  out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: logTid, args: { name: 'kernel log' } });
  out.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: PID, tid: logTid, args: { sort_index: logTid } });

  /** Open slices per CPU, outermost first: the running thread, then its entry frames. */
  const open: { name: string; kind: 'thread' | 'frame'; depth: number }[][] = [];
  const begin = (cpu: number, ts: number, name: string, cat: string, args?: Record<string, unknown>) => {
    open[cpu].push({ name, kind: cat === 'thread' ? 'thread' : 'frame', depth: Number(args?.depth ?? 0) });
    out.push({ name, ph: 'B', ts, pid: PID, tid: cpu, cat, ...(args ? { args } : {}) });
  };
  const end = (cpu: number, ts: number) => {
    const slice = open[cpu].pop()!;
    out.push({ name: slice.name, ph: 'E', ts, pid: PID, tid: cpu });
  };
  const instant = (tid: number, ts: number, name: string, cat: string, args: Record<string, unknown>) =>
    out.push({ name, ph: 'i', s: 't', ts, pid: PID, tid, cat, args });

  const first = timeline.steps[0];
  for (let cpu = 0; cpu < timeline.cpus; cpu++) {
    open.push([]);
    const thread = firstThreadOn(timeline.events, cpu) ?? first?.cpus[cpu]?.thread;
    if (thread) begin(cpu, 0, thread, 'thread');
  }

  let lastCycles = -1;
  const lastOpen: number[] = [];
  for (const e of timeline.events) {
    const ts = e.seq;
    const state = timeline.steps[e.seq];
    const cpuView = e.cpu >= 0 ? state?.cpus[e.cpu] : undefined;
    switch (e.type) {
      case 'switch':
        while (open[e.cpu].length > 0) end(e.cpu, ts);
        begin(e.cpu, ts, e.to, 'thread', { from: e.from });
        break;
      case 'entry':
        begin(e.cpu, ts, e.vector, e.kind, { kind: e.kind, depth: e.depth, saved: e.saved, thread: e.thread });
        break;
      case 'exit': {
        const stack = open[e.cpu];
        const at = findLastIndex(stack, (s) => s.kind === 'frame' && s.name === e.vector);
        if (at >= 0) while (stack.length > at) end(e.cpu, ts);
        break;
      }
      case 'rights_write': {
        const decoded = rightsArgs(registerOn(cpuView, e.register));
        instant(e.cpu, ts, `${e.register} = ${e.value}${e.skipped ? ' (skipped)' : ''}`, 'rights', {
          register: e.register,
          value: e.value,
          skipped: e.skipped,
          thread: e.thread,
          ...(decoded ? { rights: decoded } : {}),
        });
        break;
      }
      case 'fault':
        instant(e.cpu, ts, `fault: ${e.access} ${e.address}`, 'fault', {
          address: e.address,
          key: e.key,
          object: e.object,
          cause: e.cause,
          error: e.summary,
          outcome: e.outcome,
          thread: e.thread,
        });
        break;
      case 'inject':
        instant(e.cpu, ts, e.kind === 'stray_write' ? 'stray write' : `inject ${e.kind}`, 'inject', {
          kind: e.kind,
          detail: e.detail,
          thread: e.thread,
        });
        break;
      case 'op':
        instant(e.cpu, ts, e.op, 'op', { detail: e.detail, result: e.result, path: e.path, thread: e.thread });
        break;
      case 'sched':
        instant(e.cpu, ts, e.action, 'sched', { detail: e.detail, thread: e.thread });
        break;
      case 'log':
        instant(logTid, ts, OOPS_LINE.test(e.line) ? 'oops' : 'dmesg', OOPS_LINE.test(e.line) ? 'oops' : 'log', {
          line: e.line,
        });
        break;
      case 'access':
        break; // every access is in the log; only its fault is worth a mark on the track
    }
    if (state) {
      if (state.cycles !== lastCycles) {
        lastCycles = state.cycles;
        out.push({ name: 'modeled cycles', ph: 'C', ts, pid: PID, tid: 0, args: { cycles: state.cycles } });
      }
      state.cpus.forEach((c) => {
        const n = openKeys(c.supervisor);
        if (lastOpen[c.cpu] === n) return;
        lastOpen[c.cpu] = n;
        out.push({ name: `open keys CPU ${c.cpu}`, ph: 'C', ts, pid: PID, tid: c.cpu, args: { keys: n } });
      });
    }
  }
  const endTs = timeline.events.length;
  for (let cpu = 0; cpu < timeline.cpus; cpu++) while (open[cpu].length > 0) end(cpu, endTs);
  return {
    traceEvents: out,
    displayTimeUnit: 'ms',
    otherData: {
      generator: 'pkeysim',
      scenario: timeline.name,
      file: timeline.file,
      arch: timeline.arch,
      seed: timeline.seed,
      clock: 'ts = simulation step (event sequence number); 1 us = 1 step',
    },
  };
}

/** The thread a CPU's first event names: who was running there when the log began. */
function firstThreadOn(events: readonly RunEvent[], cpu: number): string | undefined {
  const e = events.find((x) => x.cpu === cpu && x.thread !== '' && x.thread !== 'boot');
  if (!e) return undefined;
  return e.type === 'switch' ? e.from : e.thread;
}

function findLastIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i])) return i;
  return -1;
}
