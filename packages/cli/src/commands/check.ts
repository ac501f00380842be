import type { CliCommand } from '../command';
import { UsageError } from '../errors';
import { outputOption, withReport } from '../report';
import { fileSource, stdinSource } from '../check/lines';
import { runCheck } from '../check/run-check';
import { type VectorEngine, x86VectorEngine } from '../check/vector-engine';

interface CheckFlags {
  expect?: boolean;
  sample?: boolean;
  json?: boolean;
  output?: string;
}

const EXAMPLES = `
Input: one JSON vector per line (access vectors and "kind": "insn" vectors); blank lines are skipped.
Output: one JSON line per vector, in input order. With --json every line carries the schema
(pkeysim.check/1, JSON Lines: "type":"vector" per vector, "type":"summary" last with --expect).

Examples:
  pkeysim check --sample --expect          run the bundled sample and compare with its results
  pkeysim check vectors.jsonl > out.jsonl  run a file
  cat vectors.jsonl | pkeysim check -      read stdin
  pkeysim check vectors.jsonl -o out.jsonl the same, written atomically to out.jsonl`;

/** `pkeysim check [file]`: run x86 vectors through the hardware model. */
export function createCheckCommand<V extends { readonly id: string }>(engine: VectorEngine<V>): CliCommand {
  return {
    register(program, context) {
      program
        .command('check')
        .description('run x86 access and instruction vectors through the hardware model, one JSON line each')
        .argument('[file]', 'a JSON-lines vector file; "-" or absent reads stdin')
        .option('--expect', "compare each output with the vector's result; end with the line 'N passed, M failed'")
        .option('--sample', 'run the bundled sample vectors instead of a file')
        .option('--json', 'tag every line with its schema and end --expect with a JSON summary line (docs/output.md)')
        .addOption(outputOption())
        .addHelpText('after', EXAMPLES)
        .action(
          context.action(async (file: string | undefined, flags: CheckFlags) => {
            if (flags.sample && file !== undefined) throw new UsageError('give a file or --sample, not both');
            const fromStdin = !flags.sample && (file === undefined || file === '-');
            const source = flags.sample
              ? fileSource(engine.samplePath)
              : fromStdin
                ? stdinSource(context.io.stdin)
                : fileSource(file!);
            if (fromStdin && (context.io.stdin as { isTTY?: boolean }).isTTY) {
              // Someone typed `pkeysim check` at a terminal: say why nothing happens.
              context.report("reading vectors from stdin; end with Ctrl-D (or try 'pkeysim check --sample')");
            }
            const options = { expect: flags.expect === true, json: flags.json === true };
            return withReport(context, flags.output, (out) => runCheck(source, options, engine, context, out));
          }),
        );
    },
  };
}

export const checkCommand = createCheckCommand(x86VectorEngine);
