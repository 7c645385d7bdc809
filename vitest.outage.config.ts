import { defineConfig } from 'vitest/config';

/**
 * The outage tests (issue 13): they stop and start the machine's PostgreSQL and Redis under running
 * Gatehouse processes, so they run alone, one file after the other, never beside another test run
 * (`npm run test:outage`; .ci/run runs them after the main suite, which excludes them).
 */
export default defineConfig({
  test: {
    include: ['packages/server/test/outage/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 240_000,
    pool: 'forks',
    globalSetup: [
      'packages/server/test/helpers/postgres-setup.ts',
      'packages/server/test/helpers/cli-bundle-setup.ts',
    ],
  },
});
