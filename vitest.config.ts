import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Finds PostgreSQL once per run (GATEHOUSE_TEST_POSTGRES_URL, else a local server) for describeEachDialect.
    globalSetup: ['packages/server/test/helpers/postgres-setup.ts'],
  },
});
