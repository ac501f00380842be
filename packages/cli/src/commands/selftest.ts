import '@pkeysim/x86';
import { createKernel, formatTestResult, type PksTestResult, runPksSelftest } from '@pkeysim/kernel';
import { InvalidArgumentError, Option } from 'commander';
import type { CliCommand } from '../command';
import { ExitCode } from '../exit-codes';
import { LineWriter } from '../output';

interface SelftestFlags {
  pks: boolean;
  cpus: number;
  design: 'dynamic' | 'static';
  entry: 'aux-pt-regs' | 'legacy-rfc-v1';
  json?: boolean;
}

const EXAMPLES = `
Runs the Linux PKS series' test module (lib/pks/pks_test.c) on a freshly booted kernel and prints one
[OK], [FAIL] or [SKIP] line per test, like the series' tool. Exit 1 when any test fails.

Examples:
  pkeysim selftest pks                      every test on the default machine (2 CPUs, PKS)
  pkeysim selftest pks --no-pks             a CPU without PKS: every test SKIP (-EOPNOTSUPP)
  pkeysim selftest pks --entry legacy-rfc-v1  RFC V1 entry code: the exception tests fail`;

function parseCpus(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new InvalidArgumentError('must be a whole number from 1 to 64');
  return n;
}

/** `pkeysim selftest pks`: the series' PKS test module, runnable. */
export const selftestCommand: CliCommand = {
  register(program, context) {
    const selftest = program.command('selftest').description("run a kernel test module (the PKS series' tests)");
    selftest
      .command('pks')
      .description('run every PKS test (CHECK_DEFAULTS .. RUN_CRASH_TEST) and print [OK]/[FAIL]/[SKIP] per test')
      .option('--no-pks', 'boot CPUs that do not enumerate PKS (supervisor keys)')
      .addOption(new Option('--cpus <n>', 'number of CPUs').argParser(parseCpus).default(2))
      .addOption(new Option('--design <design>', 'key design').choices(['dynamic', 'static']).default('dynamic'))
      .addOption(
        new Option('--entry <mode>', 'entry code').choices(['aux-pt-regs', 'legacy-rfc-v1']).default('aux-pt-regs'),
      )
      .option('--json', 'print one JSON object with the machine and every result')
      .addHelpText('after', EXAMPLES)
      .action(
        context.action(async (flags: SelftestFlags) => {
          const kernel = createKernel({
            cpus: flags.cpus,
            keyDesign: flags.design,
            entryMode: flags.entry,
            features: { supervisorDomains: flags.pks },
          });
          const results = runPksSelftest(kernel);
          const count = (status: PksTestResult['status']) => results.filter((r) => r.status === status).length;
          const summary = { ok: count('OK'), failed: count('FAIL'), skipped: count('SKIP') };
          const out = new LineWriter(context.io.stdout);
          if (flags.json) {
            const machine = {
              arch: kernel.machine.arch,
              cpus: kernel.cpuCount,
              pks: kernel.supported,
              design: flags.design,
              entry: flags.entry,
            };
            await out.line(JSON.stringify({ machine, results, ...summary }));
          } else {
            const c = context.colors.stdout;
            const paint = { OK: c.green, FAIL: c.red, SKIP: c.yellow } as const;
            for (const r of results) {
              const line = formatTestResult(r);
              const tag = `[${r.status}]`;
              await out.line(paint[r.status](tag) + line.slice(tag.length));
            }
            await out.line(
              `${results.length} tests: ${summary.ok} OK, ${summary.failed} FAIL, ${summary.skipped} SKIP`,
            );
          }
          out.release();
          return summary.failed > 0 ? ExitCode.Failed : ExitCode.Success;
        }),
      );
  },
};
