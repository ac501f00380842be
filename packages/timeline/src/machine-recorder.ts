/**
 * A trace of whole machines, for runs that are not scenarios (campaigns, the demo): each machine a
 * process, each CPU a track. It sees what the machine sees, through scenario's ObservedMachine (a
 * plugin-kit ForwardingMachine), so the kernel and the campaigns need no hook: rights-register
 * writes (decoded per key by the plugin's space), faults, context switches and entries/exits.
 * The kernel's thread names are not visible at this level: a CPU's track shows one slice per
 * context between switches. Time is the machine's own step: one per observed call.
 */
import {
  type CostModel,
  type DomainSpace,
  type Machine,
  MachineEvent,
  type ProtectionPlugin,
  registerPlugin,
  TOKENS,
} from '@pkeysim/core';
import { ObservedMachine } from '@pkeysim/scenario';
import { instanceCachingFactory } from 'tsyringe';
import { decodeRegister, keysToShow } from './snapshot';
import type { TraceEvent, TraceFile } from './trace-events';

/** Trace events a recorder keeps; past it, it stops recording and says so in the file. */
export const TRACE_MAX_EVENTS = 1_000_000;

interface MachineTrack {
  readonly pid: number;
  readonly machine: Machine;
  step: number;
  /** Open slices per CPU: depth 0 the context, then entries. */
  readonly open: string[][];
  readonly contexts: number[];
}

/** Records what whole machines do (rights writes, faults, switches, entries) as a Chrome Trace Event file, one process per machine. */
export class MachineTraceRecorder {
  private readonly events: TraceEvent[] = [];
  private readonly machines: MachineTrack[] = [];
  private truncated = false;
  /** The name the next machine's process gets ("pmem under keys, seed 1"). */
  label = 'machine';

  constructor(private readonly costs: CostModel) {}

  /** Wrap a machine so that what it does is recorded as a new process of the trace. */
  observe(machine: Machine): Machine {
    const track: MachineTrack = {
      pid: this.machines.length + 1,
      machine,
      step: 0,
      open: Array.from({ length: machine.cpuCount }, () => []),
      contexts: new Array<number>(machine.cpuCount).fill(0),
    };
    this.machines.push(track);
    this.meta(track.pid, 0, 'process_name', { name: `${this.label} (${machine.arch})` });
    for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
      this.meta(track.pid, cpu, 'thread_name', { name: `CPU ${cpu}` });
      this.begin(track, cpu, 'context 0', 'thread');
    }
    const space = (s: DomainSpace) => keysToShow(s, []);
    return new ObservedMachine(machine, {
      access: (cpu, _kind, address, _length, fault) => {
        track.step++;
        if (!fault) return;
        this.push({
          name: `fault: ${fault.cause}`,
          ph: 'i',
          s: 't',
          ts: track.step,
          pid: track.pid,
          tid: cpu,
          cat: 'fault',
          args: { address: `0x${address.toString(16)}`, key: fault.domain ?? null, error: fault.summary },
        });
      },
      rightsWrite: (cpu, s, state) => {
        track.step++;
        const view = decodeRegister(s, state, space(s));
        this.push({
          name: `${view.register} = ${view.value}`,
          ph: 'i',
          s: 't',
          ts: track.step,
          pid: track.pid,
          tid: cpu,
          cat: 'rights',
          args: {
            register: view.register,
            value: view.value,
            rights: Object.fromEntries(view.keys.map((k) => [`key ${k.key}`, k.rights])),
          },
        });
        this.cycles(track);
      },
      counted: (cpu, event) => {
        track.step++;
        if (event === MachineEvent.ContextSwitch) {
          while (track.open[cpu].length > 0) this.end(track, cpu);
          this.begin(track, cpu, `context ${++track.contexts[cpu]}`, 'thread');
          this.cycles(track);
        } else if (event === MachineEvent.ExceptionEntry) {
          this.begin(track, cpu, `entry (depth ${track.open[cpu].length})`, 'entry');
        } else if (event === MachineEvent.ExceptionExit && track.open[cpu].length > 1) {
          this.end(track, cpu);
        }
      },
    });
  }

  /** The trace so far, every open slice closed at its machine's last step. */
  toTraceFile(otherData: Record<string, string | number | boolean> = {}): TraceFile {
    const closing: TraceEvent[] = [];
    for (const track of this.machines)
      track.open.forEach((stack, cpu) => {
        for (let i = stack.length - 1; i >= 0; i--)
          closing.push({ name: stack[i], ph: 'E', ts: track.step + 1, pid: track.pid, tid: cpu });
      });
    return {
      traceEvents: [...this.events, ...closing],
      displayTimeUnit: 'ms',
      otherData: {
        generator: 'pkeysim',
        clock: 'ts = the machine step (one per observed access, register write or counted event); 1 us = 1 step',
        machines: this.machines.length,
        ...(this.truncated ? { truncated: `stopped recording after ${TRACE_MAX_EVENTS} events` } : {}),
        ...otherData,
      },
    };
  }

  private cycles(track: MachineTrack): void {
    this.push({
      name: 'modeled cycles',
      ph: 'C',
      ts: track.step,
      pid: track.pid,
      tid: 0,
      args: { cycles: this.costs.total(track.machine.events) },
    });
  }

  private begin(track: MachineTrack, cpu: number, name: string, cat: string): void {
    track.open[cpu].push(name);
    this.push({ name, ph: 'B', ts: track.step, pid: track.pid, tid: cpu, cat });
  }

  private end(track: MachineTrack, cpu: number): void {
    const name = track.open[cpu].pop()!;
    // An E must be written even past the limit, or the file's slices would not nest.
    this.events.push({ name, ph: 'E', ts: track.step, pid: track.pid, tid: cpu });
  }

  private meta(pid: number, tid: number, name: string, args: Record<string, unknown>): void {
    this.events.push({ name, ph: 'M', ts: 0, pid, tid, args });
  }

  private push(event: TraceEvent): void {
    if (this.events.length >= TRACE_MAX_EVENTS) {
      this.truncated = true;
      if (event.ph !== 'B') return;
    }
    this.events.push(event);
  }
}

const recordingPlugins = new Map<string, { plugin: ProtectionPlugin; recorder: { current?: MachineTraceRecorder } }>();

/**
 * A plugin that builds what `inner` builds, observed by `recorder` (campaigns build their kernels by
 * plugin name, so this is how a campaign's machine gets recorded without changing the campaign).
 * Its name is `trace.<inner>`; registering it again with another recorder re-points it.
 */
export function recordingPlugin(inner: ProtectionPlugin, recorder: MachineTraceRecorder): string {
  const name = `trace.${inner.name}`;
  let entry = recordingPlugins.get(name);
  if (!entry) {
    const slot: { current?: MachineTraceRecorder } = {};
    const plugin = registerPlugin({
      name,
      kind: inner.kind,
      description: `${inner.description} (recorded for a trace)`,
      register(container, config) {
        const scope = container.createChildContainer();
        inner.register(scope, { ...config, arch: inner.name });
        container.register(TOKENS.Machine, {
          useFactory: instanceCachingFactory(() => {
            const machine = scope.resolve<Machine>(TOKENS.Machine);
            return slot.current ? slot.current.observe(machine) : machine;
          }),
        });
      },
    });
    entry = { plugin, recorder: slot };
    recordingPlugins.set(name, entry);
  }
  entry.recorder.current = recorder;
  return name;
}
