import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { colorsFor } from '../src/color';
import { createMemoryIo } from '../src/io';
import { main } from '../src/main';
import { ANSI_ESCAPE, runCli } from './run-cli';

describe('pkeysim program', () => {
  it('--help lists every command and the exit codes, exit 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: pkeysim/);
    expect(run.stdout).toMatch(/^\s+check \[options\] \[file\]/m);
    expect(run.stdout).toMatch(/Exit codes:/);
    expect(run.stderr).toBe('');
  });

  it('check --help describes the check options, exit 0', async () => {
    const run = await runCli(['check', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: pkeysim check \[options\] \[file\]/);
    for (const option of ['--expect', '--sample', '--json']) expect(run.stdout).toContain(option);
  });

  it('help <command> shows that command help, exit 0', async () => {
    const run = await runCli(['help', 'check']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: pkeysim check/);
  });

  it('help with an unknown command name is one line, exit 2', async () => {
    const run = await runCli(['help', 'chek']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("pkeysim: unknown command 'chek' (try 'pkeysim --help')\n");
  });

  it('help alone shows the program help on stdout, exit 0', async () => {
    const run = await runCli(['help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: pkeysim/);
    expect(run.stdout).toMatch(/^\s+help \[command\]/m);
  });

  it('--version and -V print the package version, the same as with other options before them', async () => {
    const version = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version as string;
    for (const args of [
      ['--version'],
      ['-V'],
      ['--plugin', join(import.meta.dirname, 'fixtures', 'two-key-plugin'), '--version'],
    ]) {
      const run = await runCli(args);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${version}\n`);
    }
  });

  it('an unknown command is one line on stderr, exit 2, with a suggestion and no stack trace', async () => {
    const run = await runCli(['chek']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe("pkeysim: unknown command 'chek' (Did you mean check?) (try 'pkeysim --help')\n");
  });

  it('an unknown option of a command is one line naming that command, exit 2', async () => {
    const run = await runCli(['check', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("pkeysim: unknown option '--bogus' (try 'pkeysim check --help')\n");
  });

  it('an unknown program option is one line, exit 2', async () => {
    const run = await runCli(['--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')).toHaveLength(2);
    expect(run.stderr).toMatch(/^pkeysim: unknown option '--bogus'/);
  });

  it('too many arguments is a usage error, exit 2', async () => {
    const run = await runCli(['check', 'a.jsonl', 'b.jsonl']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^pkeysim: too many arguments for 'check'.*\n$/);
  });

  it('no command at all is one line pointing at --help, exit 2', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("pkeysim: missing command (try 'pkeysim --help')\n");
  });

  it('errors are coloured on a terminal', async () => {
    const run = await runCli(['chek'], { isTTY: true, env: {} });
    expect(run.stderr).toMatch(ANSI_ESCAPE);
  });

  it('NO_COLOR removes every escape code, even on a terminal', async () => {
    const error = await runCli(['chek'], { isTTY: true, env: { NO_COLOR: '1' } });
    const help = await runCli(['--help'], { isTTY: true, env: { NO_COLOR: '1' } });
    expect(error.stderr).not.toMatch(ANSI_ESCAPE);
    expect(help.stdout).not.toMatch(ANSI_ESCAPE);
    expect(help.stdout).toContain('check');
  });

  it('output to a pipe or file has no escape codes', async () => {
    const help = await runCli(['--help'], { isTTY: false, env: {} });
    expect(help.stdout).not.toMatch(ANSI_ESCAPE);
  });

  it('check says it is waiting for stdin when stdin is a terminal', async () => {
    const memory = createMemoryIo();
    const stdin = Object.assign(Readable.from(['']), { isTTY: true });
    const code = await main(['check'], { ...memory.io, stdin });
    expect(code).toBe(0);
    expect(memory.stderr()).toMatch(/^pkeysim: reading vectors from stdin; end with Ctrl-D/);
  });
});

describe('the lazily loaded command table', () => {
  it('lists each command with the same term its loaded module declares', async () => {
    const { COMMAND_TABLE } = await import('../src/commands');
    const { Command, Help } = await import('commander');
    const io = createMemoryIo().io;
    const context = {
      io,
      colors: { stdout: colorsFor(io.stdout, {}), stderr: colorsFor(io.stderr, {}) },
      report: () => undefined,
      plugins: new Map(),
      action: () => async () => undefined,
    };
    for (const entry of COMMAND_TABLE) {
      const program = new Command('pkeysim');
      (await entry.load()).register(program, context);
      const loaded = program.commands.find((c) => c.name() === entry.name)!;
      expect(new Help().subcommandTerm(loaded), entry.name).toBe(entry.term);
    }
  });
});
