import { describe, expect, it } from 'vitest';
import { createKernel, formatTestResult, runPksSelftest } from '@pkeysim/kernel';
import '../src/index';

describe('the kernel runs unchanged on arm64-poe (POR_EL1 as the supervisor key space)', () => {
  for (const keyDesign of ['dynamic', 'static'] as const) {
    it(`boots and passes the PKS selftest (${keyDesign} keys)`, () => {
      const kernel = createKernel({ arch: 'arm64-poe', cpus: 2, keyDesign });
      expect(kernel.supported).toBe(true);
      expect(kernel.space?.info.register).toBe('POR_EL1');
      const results = runPksSelftest(kernel);
      const lines = results.map(formatTestResult);
      const expected =
        keyDesign === 'static' ? ['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'SKIP', 'OK'] : Array(9).fill('OK');
      expect(
        results.map((r) => r.status),
        lines.join('\n'),
      ).toEqual(expected);
      // The oops names this architecture's register, not x86's PKRS.
      expect(results.find((r) => r.name === 'RUN_CRASH_TEST')!.detail).toMatch(/POR_EL1 0x/);
      expect(kernel.log.lines().some((line) => line.startsWith('arm64.por_el1: POR_EL1 enabled'))).toBe(true);
    });
  }
});
