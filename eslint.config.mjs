// Lint rules, including the layer rule: consumers -> kernel -> core <- architectures.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// `allowed` lists the sibling packages a layer may import; every other @pkeysim package is an error.
const layer = (files, allowed, why) => ({
  files,
  ignores: ['**/*.test.ts', '**/test/**', '**/bench/**'],
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: [{ regex: `^@pkeysim/(?!(${allowed.join('|') || '$^'})(/|$))`, message: why }] },
    ],
  },
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.nx/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-console': 'off',
    },
  },
  // Node scripts (benches, tools, build configs) run as ES modules under Node: its globals exist there.
  { files: ['**/*.mjs', '**/bin/*.js'], languageOptions: { globals: globals.node } },
  layer(['packages/core/src/**'], [], 'core depends on no other pkeysim package.'),
  layer(['packages/machine-kit/src/**'], ['core'], 'machine-kit builds on core only.'),
  layer(
    ['packages/{x86,arm64-poe,power}/src/**'],
    ['core', 'machine-kit'],
    'Architectures depend only on core (and machine-kit): the kernel and tools build on them, not the reverse.',
  ),
  // A later entry wins for the files it matches: the x86 `vectors` entry imports its own package's root.
  layer(
    ['packages/x86/src/vectors/**'],
    ['core', 'machine-kit', 'x86'],
    "x86's vectors entry builds on the package root (one machine, one registration) and core only.",
  ),
  layer(
    ['packages/kernel/src/**'],
    ['core'],
    'The kernel programs against @pkeysim/core only; the architecture is injected.',
  ),
  layer(
    ['packages/pkeys-user/src/**'],
    ['core', 'kernel'],
    'User-space pkeys sit on the kernel (through its public API, kernel.userTasks) and core; the kernel never imports them.',
  ),
  layer(
    ['packages/{pmem,pgtable-guard,ro-at-rest}/src/**'],
    ['core', 'kernel'],
    'Consumers use the kernel and core, never an architecture or a tool.',
  ),
  layer(
    ['packages/{kmap-apis,btrfs-debug}/src/**'],
    ['core', 'kernel'],
    'Consumers use the kernel and core, never an architecture, a scheme or a tool.',
  ),
  layer(
    ['packages/scheme-capability/src/**'],
    ['core', 'plugin-kit', 'x86'],
    'A scheme builds on core, plugin-kit and the machine it runs over; never on the kernel or a tool.',
  ),
  layer(
    ['packages/timeline/src/**'],
    ['core', 'kernel', 'scenario', 'plugin-kit'],
    'The timeline is a tool: it records runs through core, the kernel and scenario, never an architecture by name.',
  ),
  layer(
    ['packages/inspector/{src,page}/**'],
    ['core', 'kernel', 'scenario', 'timeline'],
    'The inspector serves what the timeline records; architectures reach it only as data their plugins formatted.',
  ),
  layer(
    ['packages/trace/src/**'],
    ['core'],
    'trace replays through core: an architecture reaches it as a registered plugin, never by import.',
  ),
  layer(
    ['packages/sweep/src/**'],
    [
      'core',
      'kernel',
      'pmem',
      'pgtable-guard',
      'ro-at-rest',
      'scenario',
      'x86',
      'arm64-poe',
      'power',
      'scheme-[a-z-]+',
    ],
    "sweep is a tool: it runs consumers' campaigns on registered plugins; nothing it imports may import it or the CLI.",
  ),
);
