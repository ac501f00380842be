import { describe, expect, it } from 'vitest';
import { parseCosts, parseScenario, ScenarioError } from '../src';

/** The messages a file gets, as `pkeysim run` prints them. */
function problems(text: string, file = 's.yaml'): string[] {
  try {
    parseScenario(text, file);
  } catch (error) {
    if (error instanceof ScenarioError) return error.message.split('\n');
    throw error;
  }
  throw new Error('the scenario was accepted');
}

const thread = (ops: string) => `threads:\n  - name: t\n    program:\n${ops}`;

describe('parseScenario: errors name the file, line and field', () => {
  it('a key out of range', () => {
    expect(problems(thread('      - { op: yield }\n      - { op: set_rights, key: 16, rights: rw }\n'))).toEqual([
      's.yaml:5: threads[0].program[1].key: expected a key 1..15',
    ]);
  });

  it('an unknown op, with the list of ops', () => {
    const [message] = problems(thread('      - { op: jump }\n'));
    expect(message).toMatch(
      /^s\.yaml:4: threads\[0\]\.program\[0\]\.op: unknown op "jump" \(ops: yield, sleep, exit, alloc_key/,
    );
  });

  it('an unknown field, on its own line', () => {
    expect(problems('threads:\n  - name: t\n    colour: red\n    program: []\n')).toEqual([
      's.yaml:3: threads[0]: unknown field "colour"',
    ]);
  });

  it('a missing field', () => {
    expect(problems('threads:\n  - program: []\n')).toEqual(['s.yaml:2: threads[0].name: required']);
  });

  it('a write without data', () => {
    expect(problems(thread('      - { op: write, object: x }\n'))[0]).toBe(
      's.yaml:4: threads[0].program[0]: give the data: bytes, text, or fill with length',
    );
  });

  it('a bad size', () => {
    expect(problems('machine: { memory: 12 parsecs }\nthreads: [{ name: t, program: [] }]\n')).toEqual([
      's.yaml:1: machine.memory: expected a size: bytes, or e.g. "64MiB" (B, KiB, MiB, GiB), found the string "12 parsecs"',
    ]);
  });

  it('names that refer to nothing, CPUs that do not exist and data past the end of its object', () => {
    const text = `memory:\n  - name: buf\n${thread('      - { op: set_rights, key: nokey, rights: rw }\n      - { op: write, object: buf, offset: 4090, bytes: "00 01 02 03 04 05 06 07" }\n      - { op: migrate, cpu: 2 }\n')}`;
    expect(problems(text)).toEqual([
      's.yaml:6: threads[0].program[0].key: unknown key "nokey" (declare it under keys, or bind it with alloc_key ... as)',
      's.yaml:7: threads[0].program[1].offset: 4090+8 bytes run past the end of "buf" (4096 bytes)',
      's.yaml:8: threads[0].program[2].cpu: CPU 2 does not exist (the machine has 2: 0..1)',
    ]);
  });

  it('an injection at an op the thread does not have, and an unknown injection kind', () => {
    const text = `${thread('      - { op: yield }\n')}inject:\n  - { kind: interrupt, at: { thread: t, op: 1 }, program: [] }\n`;
    expect(problems(text)).toEqual(['s.yaml:6: inject[0].at.op: thread "t" has ops 0..0; there is no op 1']);
    expect(
      problems(`${thread('      - { op: yield }\n')}inject:\n  - { kind: boom, at: { thread: t, op: 0 } }\n`),
    ).toEqual(['s.yaml:6: inject[0].kind: expected kind interrupt, nmi or stray_write (got "boom")']);
  });

  it('yield inside an interrupt handler', () => {
    expect(problems(thread('      - op: interrupt\n        program:\n          - { op: yield }\n'))).toEqual([
      's.yaml:6: threads[0].program[0].program[0].op: yield is not allowed in an interrupt, NMI or signal handler (handlers run to completion)',
    ]);
  });

  it('a YAML syntax error, with its line', () => {
    expect(problems('threads:\n  - name: t\n    program: [ { op: yield }\n')[0]).toMatch(
      /^s\.yaml:\d+: syntax error: /,
    );
  });

  it('a document that is not a mapping', () => {
    expect(problems('[1, 2]')).toEqual(['s.yaml:1: a scenario must be a mapping (YAML) or an object (JSON)']);
  });

  it('JSON, with line numbers too', () => {
    const json =
      '{\n  "threads": [\n    { "name": "t", "program": [ { "op": "set_rights", "key": 0, "rights": "rw" } ] }\n  ]\n}\n';
    expect(problems(json, 's.json')).toEqual(['s.json:3: threads[0].program[0].key: expected a key 1..15']);
  });

  it('an unknown cost event', () => {
    expect(problems(`${thread('      - { op: yield }\n')}costs: { wrpkru: 20 }\n`)[0]).toMatch(
      /^s\.yaml:5: costs\.wrpkru: unknown cost event "wrpkru"/,
    );
  });
});

describe('parseScenario: defaults and sizes', () => {
  it('fills in the default machine and kernel', () => {
    const { scenario } = parseScenario(thread('      - { op: yield }\n'));
    expect(scenario.machine).toEqual({
      arch: 'x86',
      cpus: 2,
      paging_levels: 4,
      memory: 256 * 1024 * 1024,
      pmem: 64 * 1024 * 1024,
      features: { pks: true, pku: true },
    });
    expect(scenario.kernel).toMatchObject({ key_design: 'dynamic', entry_mode: 'aux-pt-regs', fault_mode: 'strict' });
    expect(scenario.seed).toBe(1);
    expect(scenario.schedule.policy).toBe('round-robin');
  });

  it('reads sizes in bytes, KiB, MiB and GiB', () => {
    const { scenario } = parseScenario(
      `machine: { memory: 1GiB, pmem: "512 KiB" }\n${thread('      - { op: yield }\n')}`,
    );
    expect(scenario.machine.memory).toBe(1024 ** 3);
    expect(scenario.machine.pmem).toBe(512 * 1024);
  });
});

describe('parseCosts', () => {
  it('reads event cycles from YAML or JSON', () => {
    expect(parseCosts('rights_write: 250\nshootdown: 8000\n')).toEqual({ rights_write: 250, shootdown: 8000 });
    expect(parseCosts('{"access": 2}', 'c.json')).toEqual({ access: 2 });
  });

  it('rejects unknown events and negative cycles with their lines', () => {
    expect(() => parseCosts('access: 1\nwrpkru: 20\n', 'c.yaml')).toThrow(/^c\.yaml:2: wrpkru: unknown cost event/);
    expect(() => parseCosts('access: -1\n', 'c.yaml')).toThrow('c.yaml:1: access: expected cycles >= 0');
  });
});
