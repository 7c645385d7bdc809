import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** A database handle: the database itself or an open transaction. Domain code passes it through untouched. */
export type Db = Kysely<Database>;

/** Runs `work` in one transaction: all of it is written, or none. */
export function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction().execute(work);
}
