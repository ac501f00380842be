import '@pkeysim/x86';
import { createKernel, formatKeyListing, type PksVersion } from '@pkeysim/kernel';
import { Option } from 'commander';
import type { CliCommand } from '../command';
import { ExitCode } from '../exit-codes';
import { SCHEMA } from '../json/names';
import { bootWithPksFlags, pksVersionOption } from '../pks-version-option';
import { outputOption, withReport } from '../report';

interface KeysFlags {
  design?: 'dynamic' | 'static';
  pksVersion?: PksVersion;
  pks: boolean;
  json?: boolean;
  output?: string;
}

const EXAMPLES = `
Boots a kernel and prints its supervisor keys as the series' debugfs file
/sys/kernel/debug/x86/pks_keys_allocated did: key, default rights, owner.

Examples:
  pkeysim keys                   the dynamic design at boot: only the default key 0
  pkeysim keys --design static   V10's statically assigned consumers and PKS_INIT_VALUE
  pkeysim keys --pks-version v6  the keys of one posting (V6: dynamic; V7 on: static) of the series (docs/pks-versions.md)
  pkeysim keys --json            the listing as one JSON document (schema pkeysim.keys/1)`;

/** `pkeysim keys`: the key listing (debugfs pks_keys_allocated). */
export const keysCommand: CliCommand = {
  register(program, context) {
    program
      .command('keys')
      .description('list the supervisor keys with owners and default rights (debugfs pks_keys_allocated)')
      .addOption(pksVersionOption("default: the design's"))
      .addOption(
        new Option('--design <design>', "key design (default: the version's, else dynamic)").choices([
          'dynamic',
          'static',
        ]),
      )
      .option('--no-pks', 'boot CPUs that do not enumerate PKS (supervisor keys)')
      .option('--json', 'print the listing as one JSON document (docs/output.md)')
      .addOption(outputOption())
      .addHelpText('after', EXAMPLES)
      .action(
        context.action(async (flags: KeysFlags) => {
          const kernel = bootWithPksFlags(() =>
            createKernel({
              ...(flags.pksVersion ? { pksVersion: flags.pksVersion } : {}),
              ...(flags.design ? { keyDesign: flags.design } : {}),
              features: { supervisorDomains: flags.pks },
            }),
          );
          const listing = kernel.pks_keys_allocated();
          return withReport(context, flags.output, async (out) => {
            if (flags.json) {
              const document = {
                schema: SCHEMA.keys,
                ...listing,
                // JSON has no undefined: say "none" explicitly rather than drop the field.
                register: listing.register ?? null,
                initValue: listing.initValue ?? null,
              };
              await out.line(JSON.stringify(document));
            } else for (const line of formatKeyListing(listing)) await out.line(line);
            return ExitCode.Success;
          });
        }),
      );
  },
};
