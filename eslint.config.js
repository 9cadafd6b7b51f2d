import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'test-artifacts/', 'scratch/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  { files: ['src/web/**'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['src/web/sw/**'], languageOptions: { globals: { ...globals.serviceworker } } },
  { files: ['src/web/tools/**'], languageOptions: { globals: { ...globals.node } } },
  {
    files: ['scripts/**', 'bench/**', 'test/**', 'src/server/**', '*.js', '*.ts'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    rules: {
      // TypeScript checks names itself; no-undef only misfires on DOM and Node types.
      'no-undef': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'svelte/no-at-html-tags': 'error',
      // flags throwaway URL/URLSearchParams used for parsing, which need no reactivity
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
);
