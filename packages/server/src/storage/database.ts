import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { isPostgresUrl } from '../config/config.ts';
import type { Dialect } from './migrations/helpers.ts';
import { migrations } from './migrations/index.ts';
import { withQuerySpans } from './query-spans.ts';
import type { Database } from './schema.ts';
import { withForgivingRollback } from './sqlite-rollback.ts';
import { withStatementCache } from './sqlite-statements.ts';

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

/**
 * How long a request waits for a PostgreSQL connection (a new one, or a free one of the pool) before it
 * fails: with the server down or unreachable, requests answer 503 at once instead of hanging.
 */
export const CONNECT_TIMEOUT_MS = 1_000;
/**
 * How long a statement may go unanswered before it fails on the client. Request statements take
 * milliseconds; this bounds what a server that stopped answering (a network partition, a hung host)
 * costs a request, so that it answers 503 within 2 s with {@link CONNECT_TIMEOUT_MS}. Kysely drops a
 * connection whose ROLLBACK failed, so a transaction cut short never leaks into the next request.
 * Migrations, which may rebuild indexes of large tables, run without it (see {@link migrate}).
 */
export const QUERY_TIMEOUT_MS = 1_500;

/**
 * A connection lost to a restart or a network failure must not crash the process. pg reports it as an
 * `error` event, which Node throws when nothing listens: the pool listens on idle connections only
 * (and drops them), not on those a request holds. Those fail their statements instead (the request
 * answers 503), and the pool drops them when they are released, as they are no longer queryable.
 */
function ignoreLostConnections(pool: pg.Pool): void {
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
}

/** Opens the database named by `url`: a `postgres://` URL or a SQLite file path. */
export function openStorage(url: string, options: OpenOptions = {}): Storage {
  if (isPostgresUrl(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      // Idle connections that a firewall or a failover silently dropped are noticed, not reused.
      keepAlive: true,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    ignoreLostConnections(pool);
    const db = new Kysely<Database>({ dialect: withQuerySpans(new PostgresDialect({ pool }), 'postgresql') });
    return { db, dialect: 'postgres', pool, schema: options.schema ?? 'public', close: () => db.destroy() };
  }
  const file = url.startsWith('file:') ? url.slice(5) : url;
  if (file !== ':memory:' && !options.mustExist) mkdirSync(dirname(resolve(file)), { recursive: true });
  const sqlite = new SQLite(file, { fileMustExist: options.mustExist ?? false });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    // Statements prepared once per SQL text, not once per query as Kysely's driver does.
    dialect: withQuerySpans(
      new SqliteDialect({ database: withForgivingRollback(withStatementCache(sqlite), sqlite) }),
      'sqlite',
    ),
  });
  return { db, dialect: 'sqlite', pool: null, schema: null, close: () => db.destroy() };
}

/**
 * Socket errors of a connection to the database server: refused, reset, unreachable, timed out.
 * A DNS failure (`ENOTFOUND`, `EAI_AGAIN`) counts too: the name of a failed-over server can be missing
 * for a while.
 */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs (Appendix A of its manual) that say the server cannot serve now, not that the
 * statement is wrong: 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting
 * up or shutting down), 53300 too_many_connections. Class 08 (connection exception) is matched whole.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * SQLite result codes (better-sqlite3's `code`, extended codes included) that say the file cannot be
 * written or read now, not that the statement is wrong: a read-only or failing disk (SQLITE_READONLY,
 * SQLITE_IOERR), a full one (SQLITE_FULL), a file that cannot be opened (SQLITE_CANTOPEN), or a lock
 * another process held past the busy timeout (SQLITE_BUSY).
 */
const UNAVAILABLE_SQLITE_CODE = /^SQLITE_(READONLY|IOERR|FULL|CANTOPEN|BUSY)(_[A-Z_]+)?$/;

/** What node-postgres and its pool say, without a code, when a connection fails or times out. */
const UNAVAILABLE_MESSAGE =
  /^(timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|Client was closed)/;

/**
 * Whether `error` says the database cannot be reached or cannot serve now (stopped, restarting,
 * unreachable, saturated; on SQLite, a disk that refuses writes), as opposed to a fault of the
 * statement or of our code. The one place
 * that knows the driver's failures: the error handlers answer these with 503 `service_unavailable`.
 * Looks through `cause` and AggregateError's `errors` (a host name with several addresses).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_SQLITE_CODE.test(code)) return true;
  }
  if (UNAVAILABLE_MESSAGE.test(error.message)) return true;
  const nested = [error.cause, ...(error instanceof AggregateError ? error.errors : [])];
  return nested.some((inner) => isDatabaseUnavailable(inner, depth + 1));
}

/**
 * Whether the database answers a trivial statement within `timeoutMs` (the readiness probe). Never
 * throws: a failure or a late answer is `false`.
 */
export async function pingDatabase(storage: Storage, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const answered = sql`select 1`.execute(storage.db).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where migrations stand: what ran, what is pending. */
export interface MigrationState {
  applied: string[];
  pending: string[];
}

/** Progress of {@link migrate}, for a command to show; nothing is reported when nothing is pending. */
export type MigrationProgress = { step: 'start'; pending: string[] } | { step: 'done'; applied: string[] };

/**
 * The storage migrations run on: on PostgreSQL, a connection of its own without the request timeout
 * ({@link QUERY_TIMEOUT_MS}), since a migration may rebuild an index of a large table. Same server,
 * same schema (the pool's own settings).
 */
async function withMigrationStorage<T>(storage: Storage, work: (storage: Storage) => Promise<T>): Promise<T> {
  if (!storage.pool) return work(storage);
  const pool = new pg.Pool({ ...storage.pool.options, max: 1, query_timeout: undefined });
  ignoreLostConnections(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    return await work({ ...storage, db, pool, close: () => db.destroy() });
  } finally {
    await db.destroy();
  }
}

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
  return withMigrationStorage(storage, (own) => migrateOn(own, options));
}

async function migrateOn(
  storage: Storage,
  options: { onProgress?: (progress: MigrationProgress) => void },
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
