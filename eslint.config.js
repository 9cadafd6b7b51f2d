import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Module borders (docs/decisions/0022-module-borders.md). A module is a folder directly under
 * src/server/ (auth, config, events, git, inbox, models, projects, push, settings, tasks, thread,
 * workers, workflows): its index.ts is its public face, and nothing outside the folder imports any
 * other file in it. A test may also import a module's testing.ts (helpers for tests only).
 * db/, lib/ and http/ are shared infrastructure, imported file by file. Not modules: the files at
 * the top of src/server/ (the composition root, errors, logger), src/contract/ (one file per API
 * area) and the web app (components imported one by one, so that pages loaded on demand stay out
 * of the first bundle). That no module imports itself back through others is test/build/import-graph.test.ts.
 *
 * Import paths are relative, so the pattern depends on how deep the importing file sits: `../` up
 * to src/server/ for each folder, then another module's folder, then anything but its face.
 */
function moduleBorders() {
  const notShared = '(?!(?:db|lib|http|\\.\\.)/)';
  const face = (test) => (test ? '(?:index|testing)\\.js$' : 'index\\.js$');
  const restrict = (files, regex) => ({
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex,
              message:
                'use another module through its index.ts (a test may use its testing.ts too): see docs/decisions/0022-module-borders.md',
            },
          ],
        },
      ],
    },
  });
  const blocks = [];
  for (let depth = 0; depth <= 3; depth++) {
    const folder = `src/server/${'*/'.repeat(depth)}`;
    const up = depth === 0 ? '\\./' : `(?:\\.\\./){${depth}}`;
    blocks.push(restrict([`${folder}*.ts`], `^${up}${notShared}[^/]+/(?!${face(false)})`));
    blocks.push(restrict([`${folder}*.test.ts`], `^${up}${notShared}[^/]+/(?!${face(true)})`));
  }
  blocks.push(restrict(['bench/**', 'scripts/**'], `(?:^|/)src/server/${notShared}[^/]+/(?!${face(false)})`));
  blocks.push(restrict(['test/**'], `(?:^|/)src/server/${notShared}[^/]+/(?!${face(true)})`));
  return blocks;
}

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
  ...moduleBorders(),
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
