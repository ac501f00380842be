import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_LIMITS, LIMIT_CEILING, LIMIT_FLAGS, type Limits } from '@pkeysim/scenario';

/** The commander option key of each budget flag ("--max-memory-entries" -> "maxMemoryEntries"). */
function optionKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function parseBudget() {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > LIMIT_CEILING)
      throw new InvalidArgumentError(`must be a whole number from 1 to ${LIMIT_CEILING}`);
    return n;
  };
}

/**
 * Add one `--max-*` option per budget (docs/limits.md) to a command that loads or runs scenarios,
 * each with its default in the help text.
 */
export function addLimitOptions(command: Command, which: readonly (keyof Limits)[] = allLimits()): Command {
  for (const key of which) {
    const { name, flag } = LIMIT_FLAGS[key];
    command.addOption(
      new Option(`${flag} <n>`, `budget: ${name} (default ${DEFAULT_LIMITS[key]}; docs/limits.md)`).argParser(
        parseBudget(),
      ),
    );
  }
  return command;
}

function allLimits(): (keyof Limits)[] {
  return Object.keys(LIMIT_FLAGS) as (keyof Limits)[];
}

/** The budgets a user raised or lowered on the command line. */
export function limitsFromFlags(flags: object): Partial<Limits> {
  const out: Partial<Record<keyof Limits, number>> = {};
  const given = flags as Record<string, unknown>;
  for (const key of allLimits()) {
    const value = given[optionKey(LIMIT_FLAGS[key].flag)];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}
