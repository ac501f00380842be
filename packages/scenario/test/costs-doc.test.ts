import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_EVENT_CYCLES, MACHINE_EVENT_NAMES } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';

const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/costs.md'), 'utf8');

describe('docs/costs.md', () => {
  it('documents every event with the default cycles core actually uses', () => {
    const rows = new Map<string, number>();
    for (const m of doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d+)\s*\|/gm)) rows.set(m[1], Number(m[2]));
    expect([...rows.keys()].sort()).toEqual([...MACHINE_EVENT_NAMES].sort());
    for (const name of MACHINE_EVENT_NAMES) expect(rows.get(name), name).toBe(DEFAULT_EVENT_CYCLES[name] ?? 0);
  });
});
