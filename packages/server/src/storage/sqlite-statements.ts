import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LRUCache } from 'lru-cache';

/**
 * Distinct statements kept prepared. Our repositories compile to a few hundred distinct SQL texts at
 * most (a list's `in (?, ?...)` varies with its length, hence the bound); a statement costs a few
 * kilobytes of SQLite memory.
 */
export const STATEMENT_CACHE_SIZE = 500;

/**
 * `database` as Kysely's SqliteDialect sees it (`prepare` and `close`), with each SQL text prepared
 * once and its statement reused. Kysely's SqliteDriver calls `prepare` for every query it runs, so
 * SQLite parsed and planned every statement anew: as long as running a lookup by key, a third of
 * running the former workspace-list statement (measured for bench row 6, where `prepare` was 17% of
 * the server's profile). Neither Kysely nor better-sqlite3 caches statements, and no package does it
 * for Kysely's driver: hence this wrapper, hand-written.
 *
 * Reuse is safe because better-sqlite3 resets a statement after every `all`, `get` and `run` (and
 * after an error), binds the parameters of each call afresh, and re-prepares it by itself after a
 * schema change (`sqlite3_prepare_v3`). The one state a statement keeps between calls is an open
 * iterator (Kysely's `stream()`, `iterate`): such a statement is `busy`, and the caller then gets a
 * statement of its own. Keys are the SQL text, which holds no value: Kysely sends every value as a
 * parameter, and no statement of ours is built with `sql.raw` or `sql.lit`.
 *
 * A statement evicted from the cache is finalized when it is garbage-collected; `close` finalizes
 * every statement (better-sqlite3 does on closing the database).
 */
export function withStatementCache(
  database: BetterSqlite3.Database,
  max: number = STATEMENT_CACHE_SIZE,
): SqliteDatabase {
  const statements = new LRUCache<string, BetterSqlite3.Statement>({ max });
  return {
    prepare(sql: string): SqliteStatement {
      const cached = statements.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = database.prepare(sql);
      if (!cached) statements.set(sql, statement);
      return statement;
    },
    close(): void {
      statements.clear();
      database.close();
    },
  };
}
