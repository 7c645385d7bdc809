import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** Keys that allow at least one CORS origin and are neither revoked nor expired at `now`. */
export async function listActiveCorsOrigins(
  db: Kysely<Database>,
  now: number,
): Promise<{ keyId: number; origins: string[] }[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'cors_origins'])
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .where('cors_origins', '!=', '[]')
    .execute();
  return rows.map((row) => ({ keyId: row.id, origins: JSON.parse(row.cors_origins) as string[] }));
}
