// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/** Bare Node module names: matched exactly (as `paths`), so src-shared/events is not caught. */
const nodeModules = [
  'fs',
  'path',
  'os',
  'child_process',
  'worker_threads',
  'http',
  'net',
  'crypto',
  'url',
  'events',
  'stream',
  'util',
];
const nodeBuiltins = ['node:*'];

/** Layer rules: who may import whom (see ARCHITECTURE.md). */
const layer = (patterns, message, paths = nodeModules) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: paths.map((name) => ({ name, message })),
      patterns: patterns.map((group) => ({ group: [group], message })),
    },
  ],
});

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'libpss/**',
      'test-results/**',
      'playwright-report/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...layer(
        [
          'electron',
          'electron/*',
          'koffi',
          'ws',
          ...nodeBuiltins,
          '**/src-main/**',
          '**/src-preload/**',
        ],
        'The renderer runs sandboxed in a browser: it may import only src-shared and browser libraries.',
      ),
    },
  },
  {
    files: ['src-shared/**/*.ts'],
    rules: layer(
      [
        'electron',
        'electron/*',
        'koffi',
        'ws',
        'react',
        'zustand',
        ...nodeBuiltins,
        '**/src-main/**',
        '**/src-renderer/**',
        '**/src-preload/**',
      ],
      'src-shared is imported by every process: no Node, no DOM, no Electron.',
    ),
  },
  {
    files: ['src-preload/**/*.ts'],
    rules: layer(
      ['koffi', 'ws', ...nodeBuiltins, '**/src-main/**', '**/src-renderer/**'],
      'The preload is sandboxed: electron + src-shared only.',
    ),
  },
  {
    // Electron lives in its adapter (and the preload): the host, walk worker, CLI and web mode
    // run in plain Node. Only src-main/pss knows koffi; main never imports renderer code.
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/electron/**', 'src-main/pss/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'koffi'].map((name) => ({
            name,
            message:
              'Electron is used only in src-main/electron, koffi only in src-main/pss (ARCHITECTURE.md).',
          })),
          patterns: [
            {
              regex: '^(electron|koffi)/',
              message:
                'Electron is used only in src-main/electron, koffi only in src-main/pss (ARCHITECTURE.md).',
            },
            {
              group: ['**/src-renderer/**', '**/src-preload/**'],
              message: 'Main never imports renderer or preload code.',
            },
          ],
        },
      ],
    },
  },
  {
    // The binding's public surface is its index (and its koffi-free errors, locate and
    // ring-format, which the main thread may use): no other folder reaches into its files.
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/pss/**', 'src-main/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+pss/(?!(errors|locate|ring-format)$).+',
              message:
                'Import the binding through src-main/pss (its index), or its koffi-free errors / locate / ring-format, not its inner files.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // zustand is wrapped once: components and code use the store module.
    files: ['src-renderer/**/*.{ts,tsx}'],
    ignores: ['src-renderer/store/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'zustand', message: 'Use src-renderer/store (useApp, appStore), not zustand.' },
          ],
          patterns: [
            {
              group: ['zustand/*'],
              message: 'Use src-renderer/store (useApp, appStore), not zustand.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/electron/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportSpecifier[imported.name=/^(ipcMain|ipcRenderer|BrowserWindow)$/]',
          message: 'Raw Electron IPC lives only in src-main/electron (the Electron adapter).',
        },
      ],
    },
  },
);
