// @ts-check
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

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
    files: ['eslint.config.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
