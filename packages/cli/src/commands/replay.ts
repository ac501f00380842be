import { createReadStream, readFileSync, statSync } from 'node:fs';
import { budgetMessage, DEFAULT_LIMITS } from '@pkeysim/scenario';
import {
  architectureRules,
  formatReplayReport,
  parsePolicy,
  PolicyError,
  replayTrace,
  TraceFormatError,
  type Policy,
  type ReplayOptions,
} from '@pkeysim/trace';
import { echoText, isDomainError } from '@pkeysim/core';
import { Option } from 'commander';
import { archNames, checkArchName } from '../arch';
import type { CliCommand } from '../command';
import { fileReadError, systemErrorCode, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { SCHEMA } from '../json/names';
import { outputOption, withReport } from '../report';

interface ReplayFlags {
  policy: string;
  arch?: string;
  json?: boolean;
  first: string;
  failOnFault?: boolean;
  skipMalformed?: boolean;
  output?: string;
}

const EXAMPLES = `
Input: a trace from valgrind's lackey tool (--trace-mem=yes): "I  addr,size" fetches and " L",
" S", " M" loads, stores and modifies, in hex; valgrind's ==pid== lines are skipped. The policy
(JSON or YAML) assigns address ranges to domains with rights ("rwx", "rw", "r", "none", ...) and says
where rights change. With --arch the policy is mapped onto that architecture's keys and rights, its
own access check decides what faults, and a rule it cannot express is refused (exit 2); "T <id>"
lines (not made by lackey, which has no thread ids) switch threads. See docs/replay.md.

Examples:
  valgrind --tool=lackey --trace-mem=yes --log-file=ls.lackey ls
  pkeysim replay ls.lackey --policy stack-closed.json
  pkeysim replay ls.lackey --policy stack-closed.json --arch x86
  pkeysim replay ls.lackey --policy p.json --json --first 100
  valgrind --tool=lackey --trace-mem=yes --log-fd=3 ./app 3>&1 >/dev/null | pkeysim replay - --policy p.json`;

function readPolicy(path: string): Policy {
  let text: string;
  try {
    // A policy is a few ranges: refuse a huge file before reading it (the input bytes budget).
    const size = statSync(path).size;
    if (size > DEFAULT_LIMITS.inputBytes)
      throw new UsageError(`${path}: the file ${budgetMessage('inputBytes', size, DEFAULT_LIMITS.inputBytes)}`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw fileReadError(path, error);
  }
  try {
    return parsePolicy(text, path);
  } catch (error) {
    if (error instanceof PolicyError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The replay rules of `--arch NAME`: the policy mapped onto the architecture. A rule it cannot express,
 * or an architecture without user-page domains, is the user's mistake (exit 2), named in one line.
 */
function onArchitecture(policy: Policy, arch: string | undefined): Pick<ReplayOptions, 'rules' | 'mapping'> {
  if (arch === undefined) return {};
  try {
    return architectureRules(policy, arch);
  } catch (error) {
    if (error instanceof PolicyError) throw new UsageError(error.message);
    if (isDomainError(error, 'unsupported')) throw new UsageError(`--arch ${arch}: ${error.message}`);
    throw error;
  }
}

/**
 * The most faulting accesses `--first` lists: each is kept in memory until the report is printed,
 * so the list is a budget too (docs/limits.md).
 */
export const REPLAY_FIRST_MAX = 100_000;

function parseFirst(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n))
    throw new UsageError(`--first must be a whole number >= 0, got "${echoText(text)}"`);
  if (n > REPLAY_FIRST_MAX)
    throw new UsageError(`--first ${n} exceeds the faults listed budget: at most ${REPLAY_FIRST_MAX} (docs/limits.md)`);
  return n;
}

/** `pkeysim replay TRACE|- --policy FILE`: replay a lackey trace against a key policy. */
export const replayCommand: CliCommand = {
  register(program, context) {
    program
      .command('replay')
      .description('replay a valgrind lackey memory trace against a key policy: accesses and faults per domain')
      .argument('<trace>', 'a lackey trace file, or "-" for stdin')
      .requiredOption('--policy <file>', 'the key policy (JSON or YAML): ranges to domains, rights, rights changes')
      .addOption(
        // No default: without --arch the policy's own rights table decides, one set of rights for all threads.
        new Option(
          '--arch <name>',
          `replay on this architecture's keys and access check (${archNames().join(', ')})`,
        ).argParser(checkArchName),
      )
      .option('--json', 'print the report as one JSON document (docs/output.md)')
      .option('--first <n>', 'how many faulting accesses to list', '10')
      .option('--fail-on-fault', 'exit 1 when any access would fault')
      .option('--skip-malformed', 'count and skip malformed trace lines instead of stopping at the first')
      .addOption(outputOption())
      .addHelpText('after', EXAMPLES)
      .action(
        context.action(async (trace: string, flags: ReplayFlags) => {
          const firstFaults = parseFirst(flags.first);
          const policy = readPolicy(flags.policy);
          const arch = onArchitecture(policy, flags.arch);
          const fromStdin = trace === '-';
          const label = fromStdin ? '<stdin>' : trace;
          if (fromStdin && (context.io.stdin as { isTTY?: boolean }).isTTY) {
            context.report('reading a lackey trace from stdin; end with Ctrl-D');
          }
          return withReport(context, flags.output, async (out) => {
            const source = fromStdin ? context.io.stdin : createReadStream(trace, { highWaterMark: 1 << 20 });
            let report;
            try {
              report = await replayTrace(source as AsyncIterable<Uint8Array | string>, policy, {
                ...arch,
                firstFaults,
                malformed: flags.skipMalformed ? 'skip' : 'error',
              });
            } catch (error) {
              if (error instanceof TraceFormatError) throw new UsageError(`${label}:${error.line}: ${error.reason}`);
              // A file that cannot be opened or read is the user's problem; anything else is a bug.
              if (systemErrorCode(error) !== undefined) throw fileReadError(label, error);
              throw error;
            } finally {
              if (!fromStdin) (source as NodeJS.ReadableStream & { destroy(): void }).destroy();
            }
            if (flags.json) await out.line(JSON.stringify({ schema: SCHEMA.replay, ...report }));
            else for (const line of formatReplayReport(report).trimEnd().split('\n')) await out.line(line);
            return flags.failOnFault && report.faults > 0 ? ExitCode.Failed : ExitCode.Success;
          });
        }),
      );
  },
};
