import { createMachine, describeConformance } from '@pkeysim/plugin-kit';
import '../src';

describeConformance('example-wponly', () => createMachine({ arch: 'example-wponly', cpus: 2 }).machine);
