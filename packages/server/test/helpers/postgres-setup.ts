import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import type { PostgresTarget } from './test-app.ts';

/** Where CI and a developer machine run PostgreSQL (.ci/run): tried when no URL is given. */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Long enough for a local server under load, short enough not to hold up a run without one. */
const PROBE_TIMEOUT_MS = 1500;

/**
 * Which PostgreSQL the tests use: `GATEHOUSE_TEST_POSTGRES_URL` when set (no probe: a wrong URL must
 * fail loudly, not skip), none when it is `off` or empty, else `fallback` if a server answers
 * `SELECT 1` there within 1.5 s.
 */
export async function findPostgres(
  env: NodeJS.ProcessEnv = process.env,
  fallback = DEFAULT_POSTGRES_URL,
): Promise<PostgresTarget> {
  const explicit = env.GATEHOUSE_TEST_POSTGRES_URL;
  if (explicit !== undefined) {
    if (explicit === '' || explicit === 'off') {
      return { url: null, reason: `GATEHOUSE_TEST_POSTGRES_URL=${explicit || "''"} turns it off` };
    }
    return { url: explicit, reason: '' };
  }
  const client = new pg.Client({
    connectionString: fallback,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
  });
  // A refused or failed connection also emits 'error'; without a listener it would crash the run.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { url: fallback, reason: '' };
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    // One line: the reason ends up in the names of the skipped suites.
    const why = (message || code || String(error)).replace(/\s+/g, ' ');
    return {
      url: null,
      reason: `GATEHOUSE_TEST_POSTGRES_URL is not set and ${fallback} did not answer (${why})`,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Drops the schemas this run created ({@link testSchemaName}), once every test file is done. Not each
 * at its file's end: Kysely's migrator reads the catalog of every schema in the database, by name, and
 * fails ("schema … does not exist") when one is dropped while it reads, as happens with test files
 * running side by side.
 */
async function dropRunSchemas(url: string, runId: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`,
      [`test_${runId}_`],
    );
    for (const { nspname } of rows) await client.query(`DROP SCHEMA "${nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Vitest global setup: probes once per run, before any worker starts, and hands the answer to them,
 * with this run's id for the names of its schemas; drops those schemas after the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const target = await findPostgres();
  const runId = randomBytes(4).toString('hex');
  project.provide('gatehousePostgres', { ...target, runId });
  return async () => {
    if (target.url) await dropRunSchemas(target.url, runId);
  };
}
