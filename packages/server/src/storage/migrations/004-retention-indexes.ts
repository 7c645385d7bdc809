import type { Kysely } from 'kysely';
import type { Dialect } from './helpers.ts';

/**
 * Indexes for the retention job (domain/retention.ts) and the key cache's resync: both select rows by
 * age, which without an index is a scan of the whole table (the audit log is kept for a year).
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('audit_events_created').on('audit_events').column('created_at').execute();
  await db.schema.createIndex('invalidations_created').on('invalidations').column('created_at').execute();
}
