import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CliCommand } from '../command';
import { UsageError } from '../errors';
import { listShippedExamples, shippedExamplesDir } from '../examples';
import { ExitCode } from '../exit-codes';
import { outputOption, withReport } from '../report';

const EXAMPLES = `
The example scenarios ship with the CLI. \`pkeysim run examples/NAME\` runs one directly when there
is no examples/ folder where you are; copy one out to edit it.

Examples:
  pkeysim examples
  pkeysim examples copy rfc-v1-interrupt.yaml              writes ./rfc-v1-interrupt.yaml
  pkeysim examples copy rfc-v1-interrupt.yaml my.yaml`;

/** `pkeysim examples [copy NAME [DEST]]`: list the shipped example scenarios, or copy one out. */
export const examplesCommand: CliCommand = {
  register(program, context) {
    const examples = program
      .command('examples')
      .description('list the example scenarios shipped with pkeysim, or copy one out to edit')
      .addOption(outputOption())
      .addHelpText('after', EXAMPLES)
      .action(
        context.action(async (flags: { output?: string }) =>
          withReport(context, flags.output, async (out) => {
            const listed = listShippedExamples();
            const width = Math.max(...listed.map((e) => e.name.length), 8);
            for (const example of listed) await out.line(`${example.name.padEnd(width)}  ${example.summary}`);
            await out.line(`${listed.length} examples; run one with: pkeysim run examples/<name>`);
            return ExitCode.Success;
          }),
        ),
      );
    examples
      .command('copy')
      .description('copy a shipped example to DEST (default: its file name in the current directory)')
      .argument('<name>', "the example's path as `pkeysim examples` lists it")
      .argument('[dest]', 'file or existing directory to write to')
      .option('--force', 'overwrite DEST if it exists')
      .action(
        context.action(async (name: string, dest: string | undefined, flags: { force?: boolean }) => {
          const root = shippedExamplesDir();
          const known = listShippedExamples().map((e) => e.name);
          const wanted = name.replace(/^(\.\/)?examples\//, '');
          if (!root || !known.includes(wanted)) {
            throw new UsageError(`no shipped example named '${name}' (try 'pkeysim examples')`);
          }
          const cwd = context.io.cwd ?? process.cwd();
          let target = resolve(cwd, dest ?? basename(wanted));
          if (dest !== undefined && existsSync(target) && !/\.(ya?ml|json)$/.test(target)) {
            target = join(target, basename(wanted));
          }
          if (existsSync(target) && !flags.force) {
            throw new UsageError(`${target} exists; pass --force to overwrite it`);
          }
          try {
            mkdirSync(dirname(target), { recursive: true });
            copyFileSync(join(root, wanted), target);
          } catch (error) {
            throw new UsageError(`cannot write ${target}: ${error instanceof Error ? error.message : String(error)}`);
          }
          return withReport(context, undefined, async (out) => {
            await out.line(`wrote ${target}`);
            return ExitCode.Success;
          });
        }),
      );
  },
};
