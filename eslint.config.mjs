// Lint rules, including the layer rule: consumers -> kernel -> core <- architectures.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, why) => ({
  files,
  ignores: ['**/*.test.ts', '**/test/**', '**/bench/**'],
  rules: {
    'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message: why })) }],
  },
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.nx/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-console': 'off',
    },
  },
  layer(['packages/core/src/**'], ['@pkeysim/*'], 'core depends on no other pkeysim package.'),
  layer(
    ['packages/kernel/src/**'],
    ['@pkeysim/x86', '@pkeysim/x86/*', '@pkeysim/cli', '@pkeysim/cli/*'],
    'The kernel programs against @pkeysim/core only; the architecture is injected.',
  ),
  layer(['packages/x86/src/**'], ['@pkeysim/kernel', '@pkeysim/kernel/*', '@pkeysim/cli'], 'Architectures depend only on core.'),
);
