import { describe, expect, it } from 'vitest';
import { expectHostile, inputFile } from './harness';

/** A small valid scenario around one thread program (YAML, flow style). */
function scenario(program: string, extra = ''): string {
  return `name: hostile\n${extra}threads:\n  - name: t\n    program: ${program}\n`;
}

/** `depth` levels of `repeat` around a yield, as JSON. */
function nestedRepeats(depth: number, times: number): string {
  let program = '[{"op": "yield"}]';
  for (let i = 0; i < depth; i++) program = `[{"op": "repeat", "times": ${times}, "program": ${program}}]`;
  return program;
}

describe('hostile scenario files: every one ends in one line and exit 0, 1 or 2', () => {
  it('a YAML alias bomb (billion laughs) is refused by the aliases budget, not an internal error', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const file = inputFile('bomb.yaml', `${levels.join('\n')}\nthreads: []\n`);
    const run = await expectHostile(['run', file], { codes: [2] });
    expect(run.stderr).toMatch(/bomb\.yaml:\d+: .*YAML aliases budget.*--max-aliases/);
  });

  it('an alias inside its own anchor (a cycle) is refused as unbounded nesting', async () => {
    const file = inputFile('cycle.yaml', scenario('&p [{op: repeat, times: 2, program: *p}]'));
    const run = await expectHostile(['run', file], { codes: [2] });
    expect(run.stderr).toMatch(/cycle\.yaml:\d+: .*nesting depth budget.*--max-depth/);
  });

  it('nested repeats whose product is huge are refused before running, naming the product', async () => {
    const file = inputFile('repeats.json', `{"threads": [{"name": "t", "program": ${nestedRepeats(3, 100000)}}]}`);
    const run = await expectHostile(['run', file], { codes: [2] });
    expect(run.stderr).toMatch(
      /repeats\.json:1: threads\[0\]\.program\[0\]\.program\[0\]\.times: .*10000000000 > 1000000.*--max-repeat/,
    );
  });

  it('schedule.max_steps at the schema maximum is refused by the steps budget', async () => {
    const file = inputFile('steps.yaml', scenario('[{op: yield}]', 'schedule: {max_steps: 10000000}\n'));
    const run = await expectHostile(['run', file], { codes: [2] });
    expect(run.stderr).toContain(
      'schedule.max_steps: max_steps exceeds the steps budget: 10000000 > 100000 (raise it with --max-steps)',
    );
  });

  it('many ops without a yield stop at the steps budget with exit 2', async () => {
    const file = inputFile(
      'spin.json',
      `{"threads": [{"name": "t", "program": ${nestedRepeats(2, 1000)}}]}`.replace(
        '"yield"',
        '"check_rights", "key": 1, "rights": "rw"',
      ),
    );
    const run = await expectHostile(['run', file, '--max-steps', '20000'], { codes: [2] });
    expect(run.stderr).toMatch(/the run exceeds the steps budget: 20001 > 20000 \(raise it with --max-steps\)/);
  });

  it('fork inside a large repeat is refused by the forks budget before any thread is made', async () => {
    const file = inputFile(
      'forks.yaml',
      scenario('[{op: repeat, times: 100000, program: [{op: fork, name: c, program: [{op: yield}]}]}]'),
    );
    const run = await expectHostile(['run', file], { codes: [2] });
    expect(run.stderr).toMatch(
      /forks\.yaml:\d+: threads\[0\]\.program\[0\]\.program\[0\]\.op: .*forks budget: 100000 > 1024 \(raise it with --max-forks\)/,
    );
  });

  it('a million memory entries (generated) are refused by the input bytes budget without parsing', async () => {
    const entries = Array.from({ length: 1_000_000 }, (_, i) => `  - {name: m${i}}`).join('\n');
    const file = inputFile('million-memory.yaml', `memory:\n${entries}\n${scenario('[{op: yield}]')}`);
    const run = await expectHostile(['run', file], { codes: [2] });
    expect(run.stderr).toMatch(
      /million-memory\.yaml: the file exceeds the input bytes budget: \d+ > 524288 \(raise it with --max-input-bytes\)/,
    );
  });

  it('more memory entries than the budget are refused before validation, in linear time', async () => {
    const entries = Array.from({ length: 20_000 }, (_, i) => `{"name": "m${i}"}`).join(',');
    const file = inputFile('many-memory.json', `{"memory": [${entries}], "threads": [{"name": "t", "program": []}]}`);
    const run = await expectHostile(['run', file], { codes: [2], ms: 5000 });
    expect(run.stderr).toMatch(
      /many-memory\.json:1: memory: exceeds the memory entries budget: 20000 > 4096 \(raise it with --max-memory-entries\)/,
    );
  });

  it('the duplicate-name check is linear: 4096 memory entries with one duplicate load fast', async () => {
    const entries = Array.from({ length: 4096 }, (_, i) => `{"name": "m${i === 4095 ? 0 : i}"}`).join(',');
    const file = inputFile('dup-memory.json', `{"memory": [${entries}], "threads": [{"name": "t", "program": []}]}`);
    const run = await expectHostile(['run', file], { codes: [2], ms: 5000 });
    expect(run.stderr).toContain('memory[4095].name: object "m0" is declared twice');
  });

  it('a million threads (generated) are refused by a budget, not run', async () => {
    const threads = Array.from({ length: 1_000_000 }, (_, i) => `{"name":"t${i}","program":[]}`).join(',');
    const file = inputFile('million-threads.json', `{"threads": [${threads}]}`);
    await expectHostile(['run', file], { codes: [2] });
    const some = Array.from({ length: 5000 }, (_, i) => `{"name":"t${i}","program":[]}`).join(',');
    const small = inputFile('many-threads.json', `{"threads": [${some}]}`);
    const run = await expectHostile(['run', small], { codes: [2] });
    expect(run.stderr).toContain('threads: exceeds the threads budget: 5000 > 1024 (raise it with --max-threads)');
  });

  it.each([
    ['deep-flow.yaml', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['deep-json.json', '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000)],
    ['deep-block.yaml', Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}-`).join('\n')],
  ])('%s, nested far past any budget, is refused before the parser recurses', async (name, text) => {
    const run = await expectHostile(['run', inputFile(name, text)], { codes: [2] });
    expect(run.stderr).toMatch(/nesting exceeds the nesting depth budget: \d+ > 64 \(raise it with --max-depth\)/);
  });

  it('a valid scenario nested a few hundred levels gets the depth budget, not a stack overflow', async () => {
    const file = inputFile('deep-valid.json', `{"threads": [{"name": "t", "program": ${nestedRepeats(300, 1)}}]}`);
    await expectHostile(['run', file], { codes: [2] });
    // Raising the budget past what the parser reads says so, still in one line.
    const run = await expectHostile(['run', file, '--max-depth', '100000'], { codes: [2] });
    expect(run.stderr).toMatch(/more than the YAML\/JSON parser reads \(400\)/);
  });

  it('interrupts nested past the kernel entry limit are a located exit-2 error, not an internal error', async () => {
    let program = '[{"op": "check_rights", "key": 1, "rights": "rw"}]';
    for (let i = 0; i < 40; i++) program = `[{"op": "interrupt", "program": ${program}}]`;
    const file = inputFile('deep-interrupts.json', `{"threads": [{"name": "t", "program": ${program}}]}`);
    const run = await expectHostile(['run', file, '--max-depth', '200'], { codes: [2] });
    expect(run.stderr).toMatch(
      /deep-interrupts\.json:1: threads\[0\]\.program\[0\](\.program\[0\])+: interrupt nested 33 deep: the kernel allows at most 32 nested entries/,
    );
  });

  it('a signal handler that yields is a located exit-2 error, not an internal error', async () => {
    const file = inputFile(
      'signal-yield.yaml',
      `threads:\n  - name: t\n    kind: task\n    program:\n      - op: signal\n        handler:\n          - op: yield\n`,
    );
    const run = await expectHostile(['run', file], { codes: [2] });
    expect(run.stderr).toContain(
      'threads[0].program[0].handler[0].op: yield is not allowed in an interrupt, NMI or signal handler',
    );
    expect(run.stderr).toMatch(/signal-yield\.yaml:7:/);
  });

  it('a signal handler may exit: the thread ends there, as exit(2) from a handler does', async () => {
    const file = inputFile(
      'signal-exit.yaml',
      `threads:\n  - name: t\n    kind: task\n    program:\n      - op: signal\n        handler:\n          - op: exit\n`,
    );
    const run = await expectHostile(['run', file], { codes: [0] });
    expect(run.stdout).toMatch(/op +exit/);
  });

  it('a field present with the wrong type says what was expected and what was found', async () => {
    const file = inputFile('types.yaml', `seed: abc\n${scenario('[{op: yield}]')}expect: {faults: oops}\n`);
    const run = await expectHostile(['run', file], { codes: [2], stderrLines: 2 });
    expect(run.stderr).toContain('types.yaml:1: seed: expected a finite number, found the string "abc"');
    expect(run.stderr).toMatch(/types\.yaml:6: expect\.faults: expected a list, found the string "oops"/);
    expect(run.stderr).not.toContain('required');
  });

  it('a !!js/function tag is refused as a tag, with its line', async () => {
    const file = inputFile('tag.yaml', `description: !!js/function "function () { return 1 }"\n${scenario('[]')}`);
    const run = await expectHostile(['run', file], { codes: [2] });
    expect(run.stderr).toMatch(/tag\.yaml:1: unsupported tag \(tag:yaml\.org,2002:js\/function\)/);
  });

  it('an infinite cost and a NaN probability are refused as non-finite numbers', async () => {
    const file = inputFile(
      'inf.yaml',
      `costs: {rights_write: .inf}\nschedule: {policy: random, preempt: .nan}\n${scenario('[]')}`,
    );
    const run = await expectHostile(['run', file], { codes: [2], stderrLines: 2 });
    expect(run.stderr).toMatch(/costs\.rights_write: .*found infinity/);
    expect(run.stderr).toMatch(/schedule\.preempt: .*found NaN/);
  });

  it('escape bytes and huge values in a scenario are escaped and cut short when echoed', async () => {
    const file = inputFile('escape.yaml', `${scenario(`[{op: "\u001b[2J${'x'.repeat(5000)}"}]`)}`);
    const run = await expectHostile(['run', file], { codes: [2] });
    expect(run.stderr).toContain('\\x1b[2J');
    // The 5,000-character value is echoed cut short; the rest of the line lists the known ops.
    expect(run.stderr).toContain('(5004 chars)');
    expect(run.stderr).not.toContain('x'.repeat(100));
  });

  it('a file of junk lines gives a short list of problems, the rest summarised', async () => {
    const junk = Array.from({ length: 5000 }, (_, i) => `- ${i}: [junk`).join('\n');
    await expectHostile(['run', inputFile('junk.yaml', junk)], { codes: [2], stderrLines: 21 });
    const keys = `threads:\n${Array.from({ length: 500 }, (_, i) => `  - {name: t${i}, programm: []}`).join('\n')}\n`;
    const run = await expectHostile(['run', inputFile('junk-fields.yaml', keys), '--max-threads', '1000'], {
      codes: [2],
      stderrLines: 21,
    });
    expect(run.stderr).toMatch(/and \d+ more problems like those above/);
  });

  it('more events than the events budget stop the run with the budget named', async () => {
    const file = inputFile(
      'events.json',
      `{"threads": [{"name": "t", "program": ${nestedRepeats(1, 5000)}}]}`.replace(
        '"yield"',
        '"check_rights", "key": 1, "rights": "rw"',
      ),
    );
    const run = await expectHostile(['run', file, '--max-events', '1000'], { codes: [2] });
    expect(run.stderr).toMatch(
      /the run's event log exceeds the events kept budget: 1001 > 1000 \(raise it with --max-events\)/,
    );
  });

  it('a budget flag that is not a whole number is a usage error', async () => {
    const file = inputFile('ok.yaml', scenario('[{op: yield}]'));
    const run = await expectHostile(['run', file, '--max-steps', '1e99'], { codes: [2] });
    expect(run.stderr).toMatch(/--max-steps/);
  });
});
