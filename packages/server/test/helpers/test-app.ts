import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { describe } from 'vitest';
import { type AppOptions, buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';

export type DialectName = 'sqlite' | 'postgres';

const POSTGRES_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL;

/** Every dialect a storage test runs on; PostgreSQL only when GATEHOUSE_TEST_POSTGRES_URL is set. */
export const DIALECTS: DialectName[] = ['sqlite', 'postgres'];

/**
 * `describe` once per dialect. Without GATEHOUSE_TEST_POSTGRES_URL the PostgreSQL suite is reported
 * as skipped, with the reason in its name, never silently dropped.
 */
export function describeEachDialect(name: string, body: (dialect: DialectName) => void): void {
  for (const dialect of DIALECTS) {
    if (dialect === 'postgres' && !POSTGRES_URL) {
      describe.skip(`${name} [postgres: skipped, GATEHOUSE_TEST_POSTGRES_URL is not set]`, () =>
        body(dialect));
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
  if (!POSTGRES_URL) throw new Error('GATEHOUSE_TEST_POSTGRES_URL is not set');
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const storage = openStorage(POSTGRES_URL, { schema, poolSize: 4 });
  return {
    storage,
    url: POSTGRES_URL,
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
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
