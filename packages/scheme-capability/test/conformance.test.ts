import '../src';
import { createMachine } from '@pkeysim/core';
import { describeConformance } from '@pkeysim/plugin-kit/vitest';

/**
 * Every check but reboot persistence exercises a domain space. A capability machine has none: its
 * rights live in pointers (core's PointerAuthority), so those checks do not apply; the capability
 * rules are checked in capability.test.ts instead.
 */
const NO_DOMAIN_SPACE = 'not applicable: rights are per pointer (PointerAuthority), there is no domain space';
const DOMAIN_CHECKS = [
  'info-coherent',
  'domain-range',
  'unsupported-denials',
  'with-denials-pure',
  'load-read',
  'rights-scope',
  'denial-blocks-named-access',
  'domain-fault-cause',
  'translate-domain',
  'attach-retag',
  'refusals-leave-state',
];

describeConformance('capability', () => createMachine({ arch: 'capability', cpus: 3 }).machine, {
  knownFailures: Object.fromEntries(DOMAIN_CHECKS.map((id) => [id, NO_DOMAIN_SPACE])),
});
