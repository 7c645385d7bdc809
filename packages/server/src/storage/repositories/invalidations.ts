import type { Kysely } from 'kysely';
import type { Invalidation } from '../../model/types.ts';
import type { Database } from '../schema.ts';

/** The append-only change feed of keys that every instance reads to drop cached credentials. */

export async function insertInvalidation(db: Kysely<Database>, apiKeyId: number, now: number): Promise<void> {
  await db.insertInto('invalidations').values({ api_key_id: apiKeyId, created_at: now }).execute();
}

const INVALIDATION_COLUMNS = ['id', 'api_key_id', 'created_at'] as const;

function toInvalidation(row: { id: number; api_key_id: number; created_at: number }): Invalidation {
  return { id: row.id, apiKeyId: row.api_key_id, createdAt: row.created_at };
}

/** Invalidations after `afterId`, oldest first. */
export async function listInvalidationsSince(
  db: Kysely<Database>,
  afterId: number,
  limit = 1000,
): Promise<Invalidation[]> {
  const rows = await db
    .selectFrom('invalidations')
    .select(INVALIDATION_COLUMNS)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toInvalidation);
}

/** The invalidations among `ids` that are visible now (ids the feed skipped, looked for again). */
export async function listInvalidationsByIds(
  db: Kysely<Database>,
  ids: readonly number[],
): Promise<Invalidation[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('invalidations')
    .select(INVALIDATION_COLUMNS)
    .where('id', 'in', [...ids])
    .orderBy('id')
    .execute();
  return rows.map(toInvalidation);
}

/** Invalidations written at or after `since` with an id above `afterId`, oldest id first. */
export async function listInvalidationsCreatedSince(
  db: Kysely<Database>,
  since: number,
  afterId = 0,
  limit = 1000,
): Promise<Invalidation[]> {
  const rows = await db
    .selectFrom('invalidations')
    .select(INVALIDATION_COLUMNS)
    .where('created_at', '>=', since)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toInvalidation);
}

export async function lastInvalidationId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('invalidations')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/**
 * Deletes invalidations written before `before`; returns how many. The newest row always stays: a
 * starting cache begins after the highest id, and an empty table would hide where the ids are.
 */
export async function pruneInvalidations(db: Kysely<Database>, before: number): Promise<number> {
  const result = await db
    .deleteFrom('invalidations')
    .where('created_at', '<', before)
    .where('id', '<', (eb) => eb.selectFrom('invalidations').select((s) => s.fn.max('id').as('head')))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
