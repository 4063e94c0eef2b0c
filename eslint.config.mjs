// Lint: typescript-eslint with type information. Beyond the recommended rules, two that protect duban's design:
// no floating promises (a forgotten await loses an error or reorders a ledger write), and no Node built-ins or I/O
// libraries in domain/ and workflows/ (pure code, importable from the workflow sandbox; I/O is for activities).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];
const IO_LIBRARIES = [
  'nodemailer',
  'pg',
  'better-sqlite3',
  'smtp-server',
  'fastify',
  'exceljs',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];
const restricted = (extra = []) => ({
  paths: [...NODE_BUILTINS.flatMap((m) => [m, `node:${m}`]), ...IO_LIBRARIES, ...extra].map((name) => ({
    name,
    message: 'domain/ and workflows/ are pure (no Node built-ins, no I/O): move this to activities/ or a client',
  })),
  patterns: [
    {
      group: ['**/activities', '**/activities/**', '!**/activities/index'],
      allowTypeImports: true,
      message: 'workflows import activities as types only',
    },
    // The ledger is I/O too (SQLite, PostgreSQL), though it is not under activities/.
    {
      group: ['**/ledger', '**/ledger/**'],
      allowTypeImports: true,
      message: 'domain/ and workflows/ import the ledger as types only',
    },
  ],
});

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.tools/**', '.duban/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-require-imports': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', restricted(['@temporalio/workflow', '@temporalio/common'])] },
  },
  { files: ['workflows/**/*.ts'], rules: { 'no-restricted-imports': ['error', restricted()] } },
  // The import's pattern rules are pure too (text in, duties out); the file readers and writers sit beside them.
  { files: ['import/rules/**/*.ts'], rules: { 'no-restricted-imports': ['error', restricted()] } },
  // The arrows between the rooms point one way: client/ (the command line, which also launches the web service)
  // may import web/; web/ and access/ never import client/, and access/ never imports web/. activities/ is only what
  // the worker runs: no other room imports it (outgoing messages are channels/). ledger/ imports nothing above it.
  ...[
    [
      'web/**/*.ts',
      ['client', 'activities'],
      'web/ imports neither client/ nor activities/: move what both use to access/ or channels/',
    ],
    [
      'access/**/*.ts',
      ['client', 'web', 'activities'],
      'access/ is imported by client/ and web/, never the other way, and does not import activities/',
    ],
    [
      'config/**/*.ts',
      ['activities', 'web', 'client'],
      'config/ is below the rooms that read it: move this to channels/ or domain/',
    ],
    [
      'client/**/*.ts',
      ['activities'],
      'client/ does not import activities/ (what the worker runs): use channels/ or access/',
    ],
    [
      'channels/**/*.ts',
      ['activities', 'web', 'client'],
      'channels/ is imported by the activities, never the other way',
    ],
    [
      'ledger/**/*.ts',
      ['config', 'access', 'web', 'client', 'activities', 'channels', 'worker', 'workflows'],
      'ledger/ imports nothing above it: take options, let the caller build them',
    ],
  ].map(([files, rooms, message]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: rooms.flatMap((r) => [`../${r}`, `../${r}/*`, `../../${r}`, `../../${r}/*`, `../../${r}/**`]),
              message,
            },
          ],
        },
      ],
    },
  })),
);
