import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { type AppOptions, buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';

export type DialectName = 'sqlite' | 'postgres';

/** The PostgreSQL server the tests use, or why there is none; found once per run by postgres-setup.ts. */
export interface PostgresTarget {
  url: string | null;
  /** Why `url` is null, for the names of the skipped suites. */
  reason: string;
  /** This run's id, in the names of its schemas (global setup only). */
  runId?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    gatehousePostgres: PostgresTarget;
  }
}

// Without the global setup (another config), only an explicit URL enables PostgreSQL, as it used to.
const EXPLICIT_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL;
const POSTGRES: PostgresTarget = inject('gatehousePostgres') ?? {
  url: EXPLICIT_URL && EXPLICIT_URL !== 'off' ? EXPLICIT_URL : null,
  reason: 'GATEHOUSE_TEST_POSTGRES_URL is not set (and no global setup probed for a server)',
};

/** The PostgreSQL server of this run, or null when the PostgreSQL half is skipped. */
export const POSTGRES_URL: string | null = POSTGRES.url;

/** Every dialect a storage test runs on; see {@link describeEachDialect} for when PostgreSQL runs. */
export const DIALECTS: DialectName[] = ['sqlite', 'postgres'];

/**
 * `describe` once per dialect. PostgreSQL runs on `GATEHOUSE_TEST_POSTGRES_URL` when it is set; when
 * it is not, on `postgres://postgres@127.0.0.1:5432/test` if a server answers there (probed once per
 * run by the global setup, test/helpers/postgres-setup.ts). `GATEHOUSE_TEST_POSTGRES_URL=off` (or
 * set but empty) turns PostgreSQL off. A PostgreSQL suite that does not run is reported as skipped,
 * with the reason in its name, never silently dropped.
 */
export function describeEachDialect(name: string, body: (dialect: DialectName) => void): void {
  for (const dialect of DIALECTS) {
    if (dialect === 'postgres' && !POSTGRES_URL) {
      describe.skip(`${name} [postgres: skipped, ${POSTGRES.reason}]`, () => body(dialect));
    } else {
      describe(`${name} [${dialect}]`, () => body(dialect));
    }
  }
}

/** An isolated database: a fresh SQLite file, or a fresh PostgreSQL schema. */
export async function openTestStorage(
  dialect: DialectName,
): Promise<{ storage: Storage; url: string; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
    const url = join(dir, 'test.db');
    const storage = openStorage(url);
    return { storage, url, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!POSTGRES_URL) throw new Error(`no PostgreSQL for the tests: ${POSTGRES.reason}`);
  const schema = testSchemaName();
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const storage = openStorage(POSTGRES_URL, { schema, poolSize: 4 });
  return { storage, url: POSTGRES_URL, drop: () => dropTestSchema(schema) };
}

/** A new schema name for a test: `test_<run>_<random>`, dropped after the run (postgres-setup.ts). */
export function testSchemaName(): string {
  return `test_${POSTGRES.runId ?? 'norun'}_${randomBytes(6).toString('hex')}`;
}

/**
 * Drops a test's schema: at once without the global setup, else nothing here, as the global setup
 * drops every schema of the run after the run (a DROP SCHEMA beside another file's migration fails it).
 */
export async function dropTestSchema(schema: string): Promise<void> {
  if (POSTGRES.runId || !POSTGRES_URL) return;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    GATEHOUSE_SECRET: 'test-secret-test-secret-test-secret-00',
    GATEHOUSE_LOG_LEVEL: 'silent',
    GATEHOUSE_DATABASE_URL: ':memory:',
    ...overrides,
  });
}

export interface TestApp {
  app: FastifyInstance;
  storage: Storage;
  close(): Promise<void>;
}

/** A full app on an isolated database, ready for `inject`. */
export async function createTestApp(
  dialect: DialectName,
  env: Record<string, string> = {},
  options: Omit<AppOptions, 'storage'> = {},
): Promise<TestApp> {
  const { storage, drop } = await openTestStorage(dialect);
  const app = await buildApp(testConfig(env), { storage, keyCache: { pollMs: 50 }, ...options });
  return {
    app,
    storage,
    close: async () => {
      await app.close();
      await storage.close();
      await drop();
    },
  };
}
