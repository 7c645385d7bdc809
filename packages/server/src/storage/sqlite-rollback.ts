import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

const ROLLBACK = /^\s*rollback\s*;?\s*$/i;

/** What a `rollback` with nothing to undo reports: no row changed. */
const NOTHING_CHANGED = { changes: 0, lastInsertRowid: 0 };

/**
 * `database` with a `ROLLBACK` that does nothing when SQLite has already rolled the transaction back.
 * SQLite ends a transaction by itself on an I/O error, a full disk or a lock timeout (SQLITE_IOERR,
 * SQLITE_FULL, SQLITE_BUSY; "Response To Errors Within A Transaction" in its manual), and then
 * refuses the ROLLBACK that Kysely sends after any failure ("cannot rollback - no transaction is
 * active"). Kysely throws that second error instead of the first, so a request would lose the
 * cause that makes it a 503 (a read-only or full disk) and answer 500. `sqlite.inTransaction` says
 * whether there is still a transaction to undo.
 */
export function withForgivingRollback(
  database: SqliteDatabase,
  sqlite: BetterSqlite3.Database,
): SqliteDatabase {
  return {
    prepare(sql: string): SqliteStatement {
      const statement = database.prepare(sql);
      if (!ROLLBACK.test(sql)) return statement;
      return {
        reader: false,
        all: (parameters) => statement.all(parameters),
        iterate: (parameters) => statement.iterate(parameters),
        run: (parameters) => (sqlite.inTransaction ? statement.run(parameters) : NOTHING_CHANGED),
      };
    },
    close: () => database.close(),
  };
}
