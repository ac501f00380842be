import { archOption } from '../arch';
import {
  createKernel,
  formatTestResult,
  type PksTestResult,
  type PksVersion,
  runPksSeriesSelftest,
} from '@pkeysim/kernel';
import {
  type PkeysCompiledOut,
  pkeysCompiledOut,
  PKEYS_TESTS,
  type PkeysTestResult,
  MAX_ITERATIONS,
  PROTECTION_KEYS_ITERATIONS,
  PTRACE_PKRU_MODES,
  type PtracePkruMode,
  runPkeysSelftest,
  runPkeysTest,
  SIGNAL_POLICIES,
  type SignalPolicyName,
} from '@pkeysim/pkeys-user';
import { InvalidArgumentError, Option } from 'commander';
import type { CliCommand } from '../command';
import { ExitCode } from '../exit-codes';
import type { LineWriter } from '../output';
import { SCHEMA } from '../json/names';
import { outputOption, withReport } from '../report';
import { formatTap } from '../tap';
import { bootWithPksFlags, pksVersionOption } from '../pks-version-option';

interface SelftestFlags {
  pks: boolean;
  arch: string;
  cpus: number;
  design?: 'dynamic' | 'static';
  entry?: 'aux-pt-regs' | 'legacy-rfc-v1';
  pksVersion?: PksVersion;
  json?: boolean;
  tap?: boolean;
  output?: string;
}

const EXAMPLES = `
Runs the test module (lib/pks/pks_test.c) of one posting of the Linux PKS series on a freshly booted
kernel of that posting and prints one [OK], [FAIL] or [SKIP] line per test, like the series' tool.
--pks-version picks the posting (default v10; --design alone picks v6 for dynamic, v10 for static).
Exit 1 when any test fails. --tap prints TAP 13 as kselftest does; --json one document (schema
pkeysim.selftest-pks/1). See docs/output.md and docs/pks-versions.md.

Examples:
  pkeysim selftest pks                        V10's module on the default machine (2 CPUs, PKS)
  pkeysim selftest pks --pks-version v7       V7's module, with RUN_DISABLE_TEST (pks_abandon_protections)
  pkeysim selftest pks --pks-version rfc      the 2020 module under RFC V1's entry code
  pkeysim selftest pks --no-pks               a CPU without PKS: every test SKIP (-EOPNOTSUPP)
  pkeysim selftest pks --entry legacy-rfc-v1  V10's module on RFC V1 entry code: the exception tests fail`;

interface PkeysFlags {
  arch: string;
  pku: boolean;
  cpus: number;
  signalPolicy: SignalPolicyName;
  ptracePkru: PtracePkruMode;
  iterations: number;
  case?: number;
  json?: boolean;
  tap?: boolean;
  output?: string;
}

const PKEYS_EXAMPLES = `
Runs the Linux user-space protection-keys selftests (tools/testing/selftests/mm/protection_keys.c and
pkey_sighandler_tests.c) against pkeysim's processes, pkey syscalls and signal delivery. One [OK],
[FAIL] or [SKIP] line per case. Exit 1 when any case fails. --tap prints TAP 13 as kselftest does;
--json one document (schema pkeysim.selftest-pkeys/1). See docs/output.md.

Examples:
  pkeysim selftest pkeys                             mainline Linux (2024 signal fix): every case OK
  pkeysim selftest pkeys --signal-policy pre-2024    kernels before 70044df250d0: sigaltstack cases FAIL
  pkeysim selftest pkeys --signal-policy inherit     the 2016 "inherit PKRU" proposal
  pkeysim selftest pkeys --signal-policy cleared-2016  Linux 4.6..4.8: handlers start with PKRU 0
  pkeysim selftest pkeys --signal-policy clear-14+2  Molnar's 2016 "save+clear+restore the first 14 keys"
  pkeysim selftest pkeys --signal-policy amd-window  6.12 on AMD before ae6012d72fa6: sigreturn loads 0
  pkeysim selftest pkeys --ptrace-pkru ignored-5.14  5.14..4a804c4f8356: ptrace PKRU writes are lost
  pkeysim selftest pkeys --case 11                   one case alone, in a fresh process
  pkeysim selftest pkeys --no-pku                    a CPU without PKU: pkey_alloc -ENOSPC, cases SKIP
  pkeysim selftest pkeys --arch arm64-poe            POR_EL0: 8 keys, PKEY_DISABLE_READ/_EXECUTE, poe_context
  pkeysim selftest pkeys --arch power                AMR/IAMR: 32 keys, execute-only key 2; lists the
                                                     cases Linux compiles out on powerpc`;

const jsonOption = () =>
  new Option('--json', 'print one JSON document with the machine and every result (docs/output.md)').conflicts('tap');
const tapOption = () => new Option('--tap', 'print TAP 13 as kselftest does: ok/not ok per test and a Totals line');

function parseIterations(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_ITERATIONS)
    throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_ITERATIONS}`);
  return n;
}

function parseCase(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !PKEYS_TESTS.some((t) => t.number === n))
    throw new InvalidArgumentError(`must be a case number from 1 to ${PKEYS_TESTS.length} (see the [OK] lines)`);
  return n;
}

function parseCpus(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new InvalidArgumentError('must be a whole number from 1 to 64');
  return n;
}

/** How a selftest prints: lines for people, TAP 13 for kselftest tooling, or one JSON document. */
type Format =
  | { readonly kind: 'text' }
  | { readonly kind: 'tap'; readonly header: readonly string[] }
  | { readonly kind: 'json'; readonly schema: string; readonly machine: Record<string, unknown> };

function formatOf(
  flags: { json?: boolean; tap?: boolean },
  schema: string,
  machine: Record<string, unknown>,
  suite: string,
): Format {
  if (flags.json) return { kind: 'json', schema, machine };
  if (flags.tap) {
    const described = Object.entries(machine).map(([k, v]) => `${k} ${String(v)}`);
    return { kind: 'tap', header: [`${suite}: ${described.join(', ')}`] };
  }
  return { kind: 'text' };
}

/** Print results as [OK]/[FAIL]/[SKIP] lines and the summary; the exit code says whether any failed. */
async function printResults(
  out: LineWriter,
  context: Parameters<CliCommand['register']>[1],
  results: readonly (PksTestResult | PkeysTestResult)[],
  format: Format,
  compiledOut: readonly PkeysCompiledOut[] = [],
  arch = '',
): Promise<ExitCode> {
  const count = (status: PksTestResult['status']) => results.filter((r) => r.status === status).length;
  const summary = { ok: count('OK'), failed: count('FAIL'), skipped: count('SKIP') };
  if (format.kind === 'json') {
    const listed = compiledOut.length ? { compiledOut } : {};
    await out.line(JSON.stringify({ schema: format.schema, machine: format.machine, results, ...summary, ...listed }));
  } else if (format.kind === 'tap') {
    const notBuilt = compiledOut.map(
      (c) => `compiled out on ${arch}: ${c.number} ${c.name} (${c.source}): ${c.reason}`,
    );
    for (const line of formatTap([...format.header, ...notBuilt], results)) await out.line(line);
  } else {
    const c = context.colors.stdout;
    const paint = { OK: c.green, FAIL: c.red, SKIP: c.yellow } as const;
    for (const r of results) {
      const line = formatTestResult(r);
      const tag = `[${r.status}]`;
      await out.line(paint[r.status](tag) + line.slice(tag.length));
    }
    // The cases Linux does not build on this architecture: listed, not run, not counted.
    if (compiledOut.length > 0) await out.line(`compiled out on ${arch} (Linux does not build them there):`);
    for (const c of compiledOut) await out.line(`  ${c.number} ${c.name} (${c.source}): ${c.reason}`);
    await out.line(`${results.length} tests: ${summary.ok} OK, ${summary.failed} FAIL, ${summary.skipped} SKIP`);
  }
  return summary.failed > 0 ? ExitCode.Failed : ExitCode.Success;
}

/** The kernel `selftest pks` boots: V10 unless --pks-version or --design says otherwise; a conflict is exit 2. */
function bootSelftestKernel(flags: SelftestFlags) {
  return bootWithPksFlags(() =>
    createKernel({
      arch: flags.arch,
      cpus: flags.cpus,
      pksVersion: flags.pksVersion ?? (flags.design ? undefined : 'v10'),
      ...(flags.design ? { keyDesign: flags.design } : {}),
      ...(flags.entry ? { entryMode: flags.entry } : {}),
      features: { supervisorDomains: flags.pks },
    }),
  );
}

/** `pkeysim selftest pks` and `pkeysim selftest pkeys`: the kernel test suites, runnable. */
export const selftestCommand: CliCommand = {
  register(program, context) {
    const selftest = program
      .command('selftest')
      .description("run a kernel test suite (the PKS series' tests, the user-space pkeys selftests)");
    selftest
      .command('pks')
      .description(
        "run a PKS series posting's test module (V10: CHECK_DEFAULTS .. RUN_CRASH_TEST), [OK]/[FAIL]/[SKIP] per test",
      )
      .option('--no-pks', 'boot CPUs that do not enumerate PKS (supervisor keys)')
      .addOption(archOption())
      .addOption(new Option('--cpus <n>', 'number of CPUs').argParser(parseCpus).default(2))
      .addOption(pksVersionOption('default v10'))
      .addOption(new Option('--design <design>', "key design (default: the version's)").choices(['dynamic', 'static']))
      .addOption(
        new Option('--entry <mode>', "entry code (default: the version's)").choices(['aux-pt-regs', 'legacy-rfc-v1']),
      )
      .addOption(jsonOption())
      .addOption(tapOption())
      .addOption(outputOption())
      .addHelpText('after', EXAMPLES)
      .action(
        context.action(async (flags: SelftestFlags) =>
          withReport(context, flags.output, async (out) => {
            const kernel = bootSelftestKernel(flags);
            const results = runPksSeriesSelftest(kernel);
            const machine = {
              arch: kernel.machine.arch,
              cpus: kernel.cpuCount,
              pks: kernel.supported,
              pksVersion: kernel.config.pksVersion,
              design: kernel.config.keyDesign,
              entry: kernel.config.entryMode,
            };
            return printResults(out, context, results, formatOf(flags, SCHEMA.selftestPks, machine, 'selftest pks'));
          }),
        ),
      );
    selftest
      .command('pkeys')
      .description('run the user-space protection-keys selftests (protection_keys.c, pkey_sighandler_tests.c)')
      .addOption(archOption('architecture whose pkey ABI and selftest cases to run'))
      .option('--no-pku', 'boot CPUs that do not enumerate PKU (user protection keys)')
      .addOption(new Option('--cpus <n>', 'number of CPUs').argParser(parseCpus).default(2))
      .addOption(
        new Option('--signal-policy <policy>', 'how signal delivery treats PKRU')
          .choices([...SIGNAL_POLICIES])
          .default('mainline'),
      )
      .addOption(
        new Option('--ptrace-pkru <mode>', 'how PTRACE_SETREGSET NT_X86_XSTATE treats PKRU')
          .choices([...PTRACE_PKRU_MODES])
          .default('mainline'),
      )
      .addOption(
        new Option('--iterations <n>', 'run_tests_once() rounds of protection_keys.c in its one process')
          .argParser(parseIterations)
          .default(PROTECTION_KEYS_ITERATIONS),
      )
      .addOption(new Option('--case <n>', 'run only case n, alone in a fresh process').argParser(parseCase))
      .addOption(jsonOption())
      .addOption(tapOption())
      .addOption(outputOption())
      .addHelpText('after', PKEYS_EXAMPLES)
      .action(
        context.action(async (flags: PkeysFlags) =>
          withReport(context, flags.output, async (out) => {
            const options = {
              arch: flags.arch,
              cpus: flags.cpus,
              pku: flags.pku,
              signalPolicy: flags.signalPolicy,
              ptracePkru: flags.ptracePkru,
              iterations: flags.iterations,
            };
            const results = flags.case === undefined ? runPkeysSelftest(options) : [runPkeysTest(flags.case, options)];
            const compiledOut = pkeysCompiledOut(options);
            const machine = {
              arch: flags.arch,
              cpus: flags.cpus,
              pku: flags.pku,
              signalPolicy: flags.signalPolicy,
              ptracePkru: flags.ptracePkru,
              iterations: flags.iterations,
            };
            const format = formatOf(flags, SCHEMA.selftestPkeys, machine, 'selftest pkeys');
            return printResults(out, context, results, format, compiledOut, flags.arch);
          }),
        ),
      );
  },
};
