import type { Kysely } from 'kysely';
import { type Dialect, timestamp } from './helpers.ts';

/**
 * Per-key usage: requests per hour and outcome (`accepted`, `revoked`, `expired`, `rotated_out`,
 * `rate_limited`), added to in batches by every instance and kept 90 days. `hour` is the epoch ms of
 * the hour's start. The primary key leads with the key, so a key's chart reads one index range; the
 * index on `hour` serves the retention job's delete by age.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('key_usage')
    .addColumn('api_key_id', 'integer', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('hour', timestamp, (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('key_usage_pk', ['api_key_id', 'hour', 'outcome'])
    .execute();
  await db.schema.createIndex('key_usage_hour').on('key_usage').column('hour').execute();
}
