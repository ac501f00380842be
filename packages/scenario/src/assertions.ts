import type { Machine } from '@pkeysim/core';
import type { Kernel } from '@pkeysim/kernel';
import {
  type Failure,
  type FaultRecord,
  type MemoryTarget,
  rightsNameOf,
  threadState,
  type ThreadRun,
} from './context';
import { formatPath, type LoadedScenario, type PathSegment } from './load';
import { dataBytes } from './references';
import type { Scenario } from './schema';

export interface ExpectationInput {
  readonly scenario: Scenario;
  readonly loaded: LoadedScenario;
  readonly kernel: Kernel;
  readonly machine: Machine;
  readonly faults: readonly FaultRecord[];
  readonly keys: ReadonlyMap<string, number>;
  readonly targets: ReadonlyMap<string, MemoryTarget>;
  readonly runs: readonly ThreadRun[];
}

/**
 * The `expect:` section, checked after the run. Memory checks marked `after_reboot` run last,
 * after one simulated power cycle (RAM is lost, persistent memory keeps its contents).
 */
export function checkExpectations(input: ExpectationInput): Failure[] {
  const { scenario, loaded, kernel, machine, faults, keys, targets, runs } = input;
  const e = scenario.expect;
  const failures: Failure[] = [];
  const fail = (path: readonly PathSegment[], message: string) =>
    failures.push({ line: loaded.source.lineOf(path), path: formatPath(path), message });
  const keyOf = (ref: string | number | undefined) => (typeof ref === 'string' ? keys.get(ref) : ref);
  const thread = (name: string) => runs.find((r) => r.name === name)?.thread;

  e.faults?.forEach((m, i) => {
    const path = ['expect', 'faults', i];
    const key = keyOf(m.key);
    if (m.key !== undefined && key === undefined) {
      fail([...path, 'key'], `key "${String(m.key)}" was never bound`);
      return;
    }
    const matching = faults.filter(
      (f) =>
        (m.thread === undefined || f.thread === m.thread) &&
        (m.object === undefined || f.object === m.object) &&
        (key === undefined || f.key === key) &&
        (m.access === undefined || f.access === m.access) &&
        (m.outcome === undefined || f.event.outcome === m.outcome),
    ).length;
    const ok = m.count === undefined ? matching > 0 : matching === m.count;
    if (!ok) {
      const want = m.count === undefined ? 'at least 1' : String(m.count);
      fail(
        path,
        `expected ${want} fault(s) matching ${describeMatch(m)}, saw ${matching} (all faults: ${summarize(faults)})`,
      );
    }
  });
  if (e.fault_count !== undefined && faults.length !== e.fault_count)
    fail(['expect', 'fault_count'], `expected ${e.fault_count} fault(s), saw ${faults.length} (${summarize(faults)})`);

  e.rights?.forEach((r, i) => {
    const path = ['expect', 'rights', i];
    const t = thread(r.thread);
    const key = keyOf(r.key);
    if (!t || key === undefined) {
      fail(path, `cannot check: ${!t ? `thread "${r.thread}" never ran` : `key "${String(r.key)}" was never bound`}`);
      return;
    }
    const got = rightsNameOf(kernel, t.pkrs, key);
    if (got !== r.rights)
      fail([...path, 'rights'], `${r.thread} ended with ${got} on key ${key}, expected ${r.rights}`);
  });

  for (const [name, want] of Object.entries(e.threads ?? {})) {
    const run = runs.find((r) => r.name === name);
    const got = run ? threadState(run) : 'never ran';
    if (got !== want)
      fail(['expect', 'threads', name], `thread ${name} ${got === 'oops' ? 'died in an oops' : got}, expected ${want}`);
  }

  const log = kernel.log.lines();
  e.log?.forEach((text, i) => {
    if (!log.some((line) => line.includes(text)))
      fail(['expect', 'log', i], `the kernel log has no line containing "${text}"`);
  });
  e.no_log?.forEach((text, i) => {
    const line = log.find((l) => l.includes(text));
    if (line !== undefined) fail(['expect', 'no_log', i], `the kernel log has "${line}"`);
  });
  if (e.panic !== undefined && (kernel.panic !== undefined) !== e.panic)
    fail(
      ['expect', 'panic'],
      e.panic ? 'expected a kernel panic, none happened' : `unexpected kernel panic: ${kernel.panic?.reason}`,
    );

  const memory = (e.memory ?? []).map((m, i) => ({ m, path: ['expect', 'memory', i] as PathSegment[] }));
  const checkMemory = ({ m, path }: (typeof memory)[number]) => {
    const target = targets.get(m.object);
    if (!target) {
      fail([...path, 'object'], `"${m.object}" does not exist at the end of the run`);
      return;
    }
    if (target.user) {
      fail(
        [...path, 'object'],
        `"${m.object}" is user memory (mmap); memory checks read kernel objects declared under memory`,
      );
      return;
    }
    const expected = dataBytes(m)!;
    const actual = machine.readPhysical(target.physical + m.offset, expected.length);
    const diff = expected.reduce((n, b, i) => n + (actual[i] === b ? 0 : 1), 0);
    if (diff > 0) {
      const when = m.after_reboot ? ' after reboot' : '';
      fail(
        path,
        `${m.object}+${m.offset}${when}: ${diff} of ${expected.length} byte(s) differ (first bytes: ${hexPreview(actual)}, expected ${hexPreview(expected)})`,
      );
    }
  };
  memory.filter(({ m }) => !m.after_reboot).forEach(checkMemory);
  const afterReboot = memory.filter(({ m }) => m.after_reboot);
  if (afterReboot.length > 0) {
    machine.reboot();
    afterReboot.forEach(checkMemory);
  }
  return failures;
}

function describeMatch(m: Record<string, unknown>): string {
  const parts = Object.entries(m)
    .filter(([k, v]) => k !== 'count' && v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? `{${parts.join(' ')}}` : '{any}';
}

function summarize(faults: readonly FaultRecord[]): string {
  if (faults.length === 0) return 'none';
  const shown = faults
    .slice(0, 5)
    .map((f) => `${f.thread} ${f.access} ${f.object ?? '?'} key ${f.key ?? '?'} ${f.event.outcome}`);
  return shown.join('; ') + (faults.length > 5 ? `; ... ${faults.length - 5} more` : '');
}

function hexPreview(bytes: Uint8Array): string {
  return (
    Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ') +
    (bytes.length > 8 ? ' ...' : '')
  );
}
