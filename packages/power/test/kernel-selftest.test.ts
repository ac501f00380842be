import { Privilege } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { createKernel, formatTestResult, runPksSelftest } from '@pkeysim/kernel';
import '../src/index';

describe('the kernel runs unchanged on power (the shared AMR/IAMR as the supervisor key space)', () => {
  for (const keyDesign of ['dynamic', 'static'] as const) {
    it(`boots and passes the PKS selftest (${keyDesign} keys)`, () => {
      const kernel = createKernel({ arch: 'power', cpus: 2, keyDesign });
      expect(kernel.supported).toBe(true);
      expect(kernel.space?.info.governs).toBe('shared');
      // One register for both privileges: the kernel must not also drive it as a separate user space.
      expect(kernel.machine.domainSpace(Privilege.User)).toBe(kernel.space);
      const results = runPksSelftest(kernel);
      const lines = results.map(formatTestResult);
      console.log(lines.join('\n'));
      const expected =
        keyDesign === 'static' ? ['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'SKIP', 'OK'] : Array(9).fill('OK');
      expect(
        results.map((r) => r.status),
        lines.join('\n'),
      ).toEqual(expected);
    });
  }

  it('hands out keys 4..31 only (0 default, 1-3 reserved), and only 4..7 with 4 KiB Linux pages', () => {
    const kernel = createKernel({ arch: 'power', cpus: 1, machineOptions: { linuxPageSize: 4096 } });
    const keys: number[] = [];
    for (let key = kernel.pks_key_alloc('k'); key > 0; key = kernel.pks_key_alloc('k')) keys.push(key);
    expect(keys).toEqual([4, 5, 6, 7]);
    const results = runPksSelftest(createKernel({ arch: 'power', cpus: 2, machineOptions: { linuxPageSize: 4096 } }));
    expect(
      results.every((r) => r.status === 'OK'),
      results.map(formatTestResult).join('\n'),
    ).toBe(true);
  });

  it('boots with every key API answering -EOPNOTSUPP on a CPU without storage keys', () => {
    const kernel = createKernel({ arch: 'power', cpus: 1, features: { supervisorDomains: false } });
    expect(kernel.supported).toBe(false);
    expect(runPksSelftest(kernel).every((r) => r.status === 'SKIP')).toBe(true);
  });
});
