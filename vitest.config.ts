import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // The outage tests stop the PostgreSQL and Redis every other test uses: they run on their own,
    // after the main suite (`npm run test:outage`, vitest.outage.config.ts; .ci/run).
    exclude: [...configDefaults.exclude, 'packages/server/test/outage/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default leaves a core idle; most files wait on processes, PostgreSQL and timers more than
    // they compute, so two files share a 2-core machine (a PostgreSQL schema each, dropped after the run).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Finds PostgreSQL once per run (GATEHOUSE_TEST_POSTGRES_URL, else a local server) for describeEachDialect,
    // and bundles the CLI that the tests start as processes (test/helpers/cli-bundle-setup.ts).
    globalSetup: [
      'packages/server/test/helpers/postgres-setup.ts',
      'packages/server/test/helpers/cli-bundle-setup.ts',
    ],
  },
});
