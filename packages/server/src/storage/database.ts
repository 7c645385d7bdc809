import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { isPostgresUrl } from '../config/config.ts';
import type { Dialect } from './migrations/helpers.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';

// int8 (bigint) columns hold epoch milliseconds and counts, all far below 2^53.
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));

/** An open database and the dialect it speaks. */
export interface Storage {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** PostgreSQL pool, for LISTEN/NOTIFY; null on SQLite. */
  readonly pool: pg.Pool | null;
  /** PostgreSQL schema holding the tables; null on SQLite. */
  readonly schema: string | null;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL schema to use (tests isolate each file in its own). */
  schema?: string;
  poolSize?: number;
  /** SQLite: open only an existing file, never create one (commands that find, not make, a database). */
  mustExist?: boolean;
}

/** Opens the database named by `url`: a `postgres://` URL or a SQLite file path. */
export function openStorage(url: string, options: OpenOptions = {}): Storage {
  if (isPostgresUrl(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle client that loses its connection must not crash the process.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', pool, schema: options.schema ?? 'public', close: () => db.destroy() };
  }
  const file = url.startsWith('file:') ? url.slice(5) : url;
  if (file !== ':memory:' && !options.mustExist) mkdirSync(dirname(resolve(file)), { recursive: true });
  const sqlite = new SQLite(file, { fileMustExist: options.mustExist ?? false });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', pool: null, schema: null, close: () => db.destroy() };
}

/** Where migrations stand: what ran, what is pending. */
export interface MigrationState {
  applied: string[];
  pending: string[];
}

/** Progress of {@link migrate}, for a command to show; nothing is reported when nothing is pending. */
export type MigrationProgress = { step: 'start'; pending: string[] } | { step: 'done'; applied: string[] };

function migratorOf(storage: Storage): Migrator {
  const provided: Record<string, Migration> = {};
  for (const [name, migration] of Object.entries(migrations)) {
    // Kysely's Migration takes the database only; ours also needs the dialect.
    provided[name] = { up: (db) => migration.up(db, storage.dialect) };
  }
  return new Migrator({
    db: storage.db,
    provider: { getMigrations: async () => provided },
    // Named explicitly: Kysely otherwise finds its tables in any schema of the database.
    ...(storage.schema ? { migrationTableSchema: storage.schema } : {}),
  });
}

/** Which migrations ran and which are pending. Writes nothing (not even Kysely's own tables). */
export async function migrationState(storage: Storage): Promise<MigrationState> {
  const all = await migratorOf(storage).getMigrations();
  return {
    applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name),
    pending: all.filter((m) => m.executedAt === undefined).map((m) => m.name),
  };
}

/** Applies every pending migration; returns the names applied. */
export async function migrate(
  storage: Storage,
  options: { onProgress?: (progress: MigrationProgress) => void } = {},
): Promise<string[]> {
  const migrator = migratorOf(storage);
  const { onProgress } = options;
  if (onProgress) {
    const pending = (await migrator.getMigrations()).filter((m) => m.executedAt === undefined);
    if (pending.length) onProgress({ step: 'start', pending: pending.map((m) => m.name) });
  }
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (onProgress && applied.length) onProgress({ step: 'done', applied });
  return applied;
}
