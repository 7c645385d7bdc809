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
    // Finds PostgreSQL once per run (GATEHOUSE_TEST_POSTGRES_URL, else a local server) for describeEachDialect.
    globalSetup: ['packages/server/test/helpers/postgres-setup.ts'],
  },
});
