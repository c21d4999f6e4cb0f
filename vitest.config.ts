import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'src-*/**/*.test.ts',
      'src-*/**/*.test.tsx',
      'scripts/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Native walks and child processes: keep test files isolated in forks so a crash names its file.
    pool: 'forks',
    // Memory-flatness tests call gc() between samples.
    execArgv: ['--expose-gc'],
  },
});
