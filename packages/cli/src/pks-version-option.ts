import { KernelError, PKS_VERSIONS } from '@pkeysim/kernel';
import { Option } from 'commander';
import { UsageError } from './errors';

/** `--pks-version <version>`: which posting of the PKS series (rfc, v2..v10) the kernel follows. */
export function pksVersionOption(defaultNote: string): Option {
  return new Option('--pks-version <version>', `posting of the PKS series (${defaultNote})`).choices([...PKS_VERSIONS]);
}

/**
 * Boot a kernel from a command's `--pks-version`/`--design` flags: a design that is not the
 * version's (V10 is static) is the user's mistake, one line and exit 2, named by its flag.
 */
export function bootWithPksFlags<T>(boot: () => T): T {
  try {
    return boot();
  } catch (error) {
    if (error instanceof KernelError && error.code === 'EINVAL')
      throw new UsageError(error.message.replace('kernel config: keyDesign', '--design'));
    throw error;
  }
}
