import { defineConfig } from 'vitest/config';

// One run for the whole workspace; each package is a project so its tests can be run alone
// (`vitest run --project agent`). Workspace imports resolve to sources via the custom condition.
export default defineConfig({
  resolve: { conditions: ['beckon-source'] },
  ssr: { resolve: { conditions: ['beckon-source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['shared/test/**/*.test.ts', 'test/support/test/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'auth-service', include: ['auth-service/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'agent', include: ['agent/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'client', include: ['client/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'local', include: ['local/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'fuzz', include: ['test/fuzz/**/*.fuzz.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'deploy',
          include: ['deploy/test/**/*.test.ts'],
          // Building the agent executable copies and rewrites a ~100 MB Node.js binary.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'reliability',
          include: ['test/reliability/**/*.test.ts'],
          globalSetup: ['test/reliability/support/global-setup.ts'],
          // Real outages and restarts: the auth-service outage alone lasts 30 s.
          testTimeout: 240_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'bench',
          include: ['test/bench/test/**/*.test.ts'],
          // The benchmarks' own parts (load generator, statistics, request builder, options,
          // perf breakdown) in a few seconds; the smoke test compiles the benchmarks and runs
          // two in quick mode, about a minute, with its own hook timeout.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
