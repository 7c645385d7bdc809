import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DbKind } from './options.ts';

/** A database created for one run: its URL for the server, and how to remove it afterwards. */
export interface BenchDatabase {
  kind: DbKind;
  url: string;
  drop(): Promise<void>;
}

/** The same server, with another database name in the path. */
function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.href;
}

/**
 * A temporary SQLite file, or a fresh PostgreSQL database (dropped after the run, so runs never
 * measure each other's leftovers).
 */
export async function createBenchDatabase(kind: DbKind, adminUrl: string): Promise<BenchDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
    return {
      kind,
      url: join(dir, 'bench.db'),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `gatehouse_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  return {
    kind,
    url: withDatabase(adminUrl, name),
    // WITH (FORCE) ends connections a killed server may have left behind (PostgreSQL 13+).
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
