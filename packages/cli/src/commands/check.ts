import type { CliCommand } from '../command';
import { UsageError } from '../errors';
import { fileSource, stdinSource } from '../check/lines';
import { runCheck } from '../check/run-check';
import { type VectorEngine, x86VectorEngine } from '../check/vector-engine';

interface CheckFlags {
  expect?: boolean;
  sample?: boolean;
  json?: boolean;
}

const EXAMPLES = `
Input: one JSON vector per line (access vectors and "kind": "insn" vectors); blank lines are skipped.
Output: one JSON line per vector, in input order.

Examples:
  pkeysim check --sample --expect          run the bundled sample and compare with its results
  pkeysim check vectors.jsonl > out.jsonl  run a file
  cat vectors.jsonl | pkeysim check -      read stdin`;

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
        .option('--json', 'with --expect, print the summary as a JSON object {"passed","failed"}')
        .addHelpText('after', EXAMPLES)
        .action(
          context.action(async (file: string | undefined, flags: CheckFlags) => {
            if (flags.sample && file !== undefined) throw new UsageError('give a file or --sample, not both');
            const source = flags.sample
              ? fileSource(engine.samplePath)
              : file === undefined || file === '-'
                ? stdinSource(context.io.stdin)
                : fileSource(file);
            if (source.stream === context.io.stdin && (context.io.stdin as { isTTY?: boolean }).isTTY) {
              // Someone typed `pkeysim check` at a terminal: say why nothing happens.
              context.report("reading vectors from stdin; end with Ctrl-D (or try 'pkeysim check --sample')");
            }
            return runCheck(source, { expect: flags.expect === true, json: flags.json === true }, engine, context);
          }),
        );
    },
  };
}

export const checkCommand = createCheckCommand(x86VectorEngine);
