import type { ColumnDefinitionBuilder, Kysely } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** A migration: `up` receives the dialect for the few types that differ. */
export interface Migration {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

/** Auto-increment primary key type: SQLite's rowid alias, PostgreSQL's serial. */
export function id(dialect: Dialect): 'integer' | 'serial' {
  return dialect === 'postgres' ? 'serial' : 'integer';
}

/** Primary-key modifiers: SQLite needs AUTOINCREMENT so that ids are never reused; serial already is. */
export function idModifiers(dialect: Dialect) {
  return (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();
}

/** Epoch milliseconds overflow int4, so timestamps are bigint (SQLite integers are 64-bit). */
export const timestamp = 'bigint';
