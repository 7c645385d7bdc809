import type { Kysely } from 'kysely';
import type { UsageCount } from '../../model/types.ts';
import type { Database } from '../schema.ts';

/**
 * Most counts one statement adds: 4 parameters each stays far below SQLite's 32,766 and PostgreSQL's
 * 65,535 bound parameters.
 */
export const USAGE_ROWS_PER_STATEMENT = 1000;

/**
 * Adds counts to the stored ones in one statement (an upsert, the same SQL on SQLite and PostgreSQL).
 * `counts` must name each (key, hour, outcome) once: PostgreSQL refuses to update a row twice in one
 * statement. Rows go in key order, so that two instances adding to the same rows lock them in the same
 * order and cannot deadlock.
 */
export async function addKeyUsage(db: Kysely<Database>, counts: readonly UsageCount[]): Promise<void> {
  if (counts.length === 0) return;
  if (counts.length > USAGE_ROWS_PER_STATEMENT)
    throw new Error(`at most ${USAGE_ROWS_PER_STATEMENT} usage counts per statement`);
  const rows = counts
    .map((c) => ({ api_key_id: c.apiKeyId, hour: c.hour, outcome: c.outcome, count: c.count }))
    .sort((x, y) => x.api_key_id - y.api_key_id || x.hour - y.hour || x.outcome.localeCompare(y.outcome));
  await db
    .insertInto('key_usage')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['api_key_id', 'hour', 'outcome'])
        .doUpdateSet((eb) => ({ count: eb('key_usage.count', '+', eb.ref('excluded.count')) })),
    )
    .execute();
}

/** A key's counts for the hours starting in [from, to), oldest first. */
export async function listKeyUsage(
  db: Kysely<Database>,
  apiKeyId: number,
  from: number,
  to: number,
): Promise<UsageCount[]> {
  const rows = await db
    .selectFrom('key_usage')
    .select(['api_key_id', 'hour', 'outcome', 'count'])
    .where('api_key_id', '=', apiKeyId)
    .where('hour', '>=', from)
    .where('hour', '<', to)
    .orderBy('hour')
    .execute();
  return rows.map((row) => ({
    apiKeyId: row.api_key_id,
    hour: Number(row.hour),
    outcome: row.outcome,
    count: Number(row.count),
  }));
}

/** Deletes the counts of hours that started before `before`; returns how many rows went. */
export async function deleteKeyUsageBefore(db: Kysely<Database>, before: number): Promise<number> {
  const result = await db.deleteFrom('key_usage').where('hour', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
