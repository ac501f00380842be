import { Deny, parseRights } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { definePolicy, parsePolicy, PolicyError } from './policy';

const errorOf = (text: string): PolicyError => {
  try {
    parsePolicy(text, 'policy.json');
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('the policy was accepted');
};

describe('policies', () => {
  it('gives a policy an implicit "default" domain 0 with rwx rights', () => {
    const policy = definePolicy({
      domains: [{ name: 'stack', rights: 'rw', ranges: [{ start: '0x1000', size: '4K' }] }],
    });
    expect(policy.domains).toEqual([
      { name: 'default', index: 0, initialDenials: Deny.None, ranges: [] },
      { name: 'stack', index: 1, initialDenials: Deny.Execute, ranges: [{ start: 0x1000, end: 0x2000 }] },
    ]);
  });

  it('makes a declared "default" domain 0 and keeps the others in order', () => {
    const policy = definePolicy({
      domains: [
        { name: 'a', rights: 'r' },
        { name: 'default', rights: 'rw' },
        { name: 'b', rights: 'none' },
      ],
    });
    expect(policy.domains.map((d) => [d.name, d.index, d.initialDenials])).toEqual([
      ['default', 0, parseRights('rw')],
      ['a', 1, parseRights('r')],
      ['b', 2, Deny.Access | Deny.Execute],
    ]);
  });

  it('reads addresses as hex or decimal text or numbers, sizes with K/M/G suffixes, and kernel addresses as signed', () => {
    const policy = definePolicy({
      domains: [
        {
          name: 'a',
          rights: 'rw',
          ranges: [
            { start: 4096, end: '0x2000' },
            { start: '0x1_0000', size: '64K' },
            { start: '1048576', size: '1MiB' },
          ],
        },
        { name: 'k', rights: 'rw', ranges: [{ start: '0xffff888000000000', size: '1G' }] },
      ],
    });
    expect(policy.domains[1].ranges).toEqual([
      { start: 0x1000, end: 0x2000 },
      { start: 0x10000, end: 0x20000 },
      { start: 0x100000, end: 0x200000 },
    ]);
    expect(policy.domains[2].ranges).toEqual([{ start: -0x778000000000, end: -0x778000000000 + 2 ** 30 }]);
  });

  it('compiles atAccess and onFetch changes in policy order with domain numbers', () => {
    const policy = definePolicy({
      domains: [{ name: 'stack', rights: 'rw' }],
      changes: [
        { onFetch: '0x401000', set: { stack: 'none', default: 'rx' } },
        { atAccess: 10, set: { stack: 'r' } },
      ],
    });
    expect(policy.changes).toEqual([
      {
        onFetch: 0x401000,
        set: [
          { domain: 1, denials: Deny.Access | Deny.Execute },
          { domain: 0, denials: Deny.Write },
        ],
      },
      { atAccess: 10, set: [{ domain: 1, denials: parseRights('r') }] },
    ]);
  });

  it('names the file, line and field of bad rights', () => {
    const error = errorOf('{\n  "domains": [\n    { "name": "stack",\n      "rights": "rq" }\n  ]\n}\n');
    expect(error.message).toBe(
      'policy.json:4:7: domains[0].rights: rights "rq" must be letters from r, w, x (or "none")',
    );
    expect(error.location).toEqual({ line: 4, column: 7 });
    expect(error.field).toBe('domains[0].rights');
  });

  it('names an unknown field and lists the known ones', () => {
    expect(errorOf('{ "domains": [],\n  "chnages": [] }').message).toBe(
      'policy.json:2:3: chnages: unknown field (known: $schema, description, maxDomains, domains, changes)',
    );
    expect(errorOf('{ "domains": [{ "name": "a", "rights": "r",\n "range": [] }] }').message).toBe(
      'policy.json:2:2: domains[0].range: unknown field (known: name, rights, ranges, description)',
    );
  });

  it('says a required field is missing, at the line of its object', () => {
    expect(errorOf('{ "domains": [\n  { "name": "a" }\n] }').message).toBe(
      'policy.json:2:3: domains[0].rights: required field is missing',
    );
  });

  it('reports invalid JSON with its line and column', () => {
    expect(errorOf('{ "domains": [\n  { "name": "a", }\n] }').message).toBe(
      'policy.json:2:18: not valid JSON: expected a field name in quotes, found "}"',
    );
  });

  it('reads a YAML policy like its JSON form', () => {
    const yaml = 'domains:\n  - name: stack\n    rights: rw\n    ranges:\n      - { start: 0x1000, size: 4K }\n';
    const json =
      '{ "domains": [{ "name": "stack", "rights": "rw", "ranges": [{ "start": "0x1000", "size": "4K" }] }] }';
    expect(parsePolicy(yaml, 'policy.yaml')).toEqual(parsePolicy(json, 'policy.json'));
  });

  it('names the line and field of a bad YAML policy, and reports a YAML syntax error with its line', () => {
    const bad = (text: string): string => {
      try {
        parsePolicy(text, 'policy.yaml');
      } catch (error) {
        if (error instanceof PolicyError) return error.message;
        throw error;
      }
      throw new Error('the policy was accepted');
    };
    expect(bad('domains:\n  - name: stack\n    rights: rq\n')).toBe(
      'policy.yaml:3:5: domains[0].rights: rights "rq" must be letters from r, w, x (or "none")',
    );
    expect(bad('domains:\n  - name: a\n    name: b\n    rights: r\n')).toMatch(/^policy\.yaml:3:\d+: not valid YAML: /);
  });

  it('refuses overlapping ranges, naming both domains', () => {
    const error = errorOf(
      JSON.stringify(
        {
          domains: [
            { name: 'a', rights: 'rw', ranges: [{ start: '0x1000', end: '0x3000' }] },
            { name: 'b', rights: 'r', ranges: [{ start: '0x2000', size: 16 }] },
          ],
        },
        null,
        2,
      ),
    );
    expect(error.message).toMatch(
      /^policy\.json:\d+:\d+: domains\[1\]\.ranges\[0\]: range 0x2000-0x2010 of "b" overlaps 0x1000-0x3000 of "a"$/,
    );
  });

  it('refuses a range with both end and size, or neither, or an empty one', () => {
    const range = (r: object) =>
      errorOf(JSON.stringify({ domains: [{ name: 'a', rights: 'rw', ranges: [r] }] })).message;
    expect(range({ start: 0, end: 1, size: 1 })).toMatch(
      /domains\[0\]\.ranges\[0\]: give exactly one of "end" \(exclusive\) or "size"/,
    );
    expect(range({ start: 0 })).toMatch(/give exactly one of "end"/);
    expect(range({ start: '0x2000', end: '0x1000' })).toMatch(/range is empty: end 0x1000 is not above start 0x2000/);
    expect(range({ start: 'twelve', size: 1 })).toMatch(
      /domains\[0\]\.ranges\[0\]\.start: "twelve" is not a decimal or 0x-prefixed hex number/,
    );
    expect(range({ start: '0x10000000000000000', size: 1 })).toMatch(/does not fit in 64 bits/);
  });

  it('refuses a change that names an unknown domain or gives both or neither trigger', () => {
    const change = (c: object) =>
      errorOf(JSON.stringify({ domains: [{ name: 'stack', rights: 'rw' }], changes: [c] })).message;
    expect(change({ atAccess: 1, set: { heap: 'r' } })).toMatch(
      /changes\[0\]\.set\.heap: no domain named "heap" \(domains: default, stack\)/,
    );
    expect(change({ atAccess: 1, onFetch: 4096, set: { stack: 'r' } })).toMatch(
      /changes\[0\]: give exactly one of "atAccess"/,
    );
    expect(change({ set: { stack: 'r' } })).toMatch(/changes\[0\]: give exactly one of "atAccess"/);
    expect(change({ atAccess: -1, set: { stack: 'r' } })).toMatch(/changes\[0\]\.atAccess: Too small/);
    expect(change({ atAccess: 1, set: {} })).toMatch(/changes\[0\]\.set: sets no rights/);
  });

  it('refuses more domains than maxDomains, counting the default domain', () => {
    const policy = {
      maxDomains: 2,
      domains: [
        { name: 'a', rights: 'r' },
        { name: 'b', rights: 'r' },
      ],
    };
    expect(errorOf(JSON.stringify(policy)).message).toMatch(
      /maxDomains: the policy has 3 domains \(counting "default"\) but at most 2 are allowed/,
    );
    expect(definePolicy({ ...policy, maxDomains: 3 }).domains).toHaveLength(3);
  });

  it('refuses a domain declared twice', () => {
    expect(
      errorOf(
        JSON.stringify({
          domains: [
            { name: 'a', rights: 'r' },
            { name: 'a', rights: 'rw' },
          ],
        }),
      ).message,
    ).toMatch(/domains\[1\]\.name: domain "a" is declared twice/);
  });

  it('names fields without a line for policies built in code', () => {
    expect(() => definePolicy({ domains: [{ name: '1bad', rights: 'r' }] })).toThrow(
      /^policy: domains\[0\]\.name: must be a letter/,
    );
  });
});
