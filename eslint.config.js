// @ts-check
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** Workflow code is replayed: it must not reach Node built-ins or any I/O library. */
const workflowBans = {
  paths: [
    ...builtinModules.filter((m) => !m.startsWith('_')),
    'pino',
    'yaml',
    'undici',
    'axios',
    'node-fetch',
    '@temporalio/client',
    '@temporalio/worker',
    '@temporalio/activity',
    '@temporalio/testing',
    '@openfeature/flagd-core',
  ].map((name) => ({ name, message: 'Workflow and domain code must be deterministic and free of I/O.' })),
  patterns: [
    { group: ['node:*'], message: 'Workflow and domain code must not use Node built-ins.' },
    { group: ['**/activities/*', '!**/activities/index.js'], message: 'Import activities as types only.' },
  ],
};

/** Zod lives in `*.schema.ts` modules; workflow code and the pure domain modules take only their types. */
const schemaImports = (message) => ({
  patterns: [{ group: ['zod', '**/*.schema.js', './*.schema.js'], allowTypeImports: true, message }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', '.rollout/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'src/domain/**/*.ts', 'src/analysis/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', workflowBans],
      '@typescript-eslint/no-restricted-imports': 'off',
    },
  },
  {
    // Every module a workflow imports is evaluated again for each workflow run: workflow code takes logic from
    // the zod-free domain modules and only types from the schema modules (legacy-spec-check.ts replays old runs).
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/legacy-spec-check.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        schemaImports(
          'Workflow code imports only types from *.schema modules; take logic from the zod-free domain modules.',
        ),
      ],
    },
  },
  {
    // catalog.ts and resolve.ts check values against the schemas (the edge and the spec-check activity run them);
    // workflow code never imports them, which test/architecture/imports.test.ts holds
    files: ['src/domain/**/*.ts'],
    ignores: ['src/domain/**/*.schema.ts', 'src/domain/catalog.ts', 'src/domain/resolve.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        schemaImports('Workflow code imports this module: it takes only types from *.schema modules.'),
      ],
    },
  },
  // layout is prettier's (`npm run format`); eslint keeps to correctness
  prettier,
  {
    files: ['eslint.config.js', 'examples/**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
