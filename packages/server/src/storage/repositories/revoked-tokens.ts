import type { Kysely } from 'kysely';
import type { RevokedToken } from '../../model/types.ts';
import type { Database } from '../schema.ts';

/** Records a revoked access token; revoking it twice is a no-op. */
export async function insertRevokedToken(
  db: Kysely<Database>,
  token: { jti: string; clientId: string; expiresAt: number },
  now: number,
): Promise<void> {
  await db
    .insertInto('revoked_tokens')
    .values({ jti: token.jti, client_id: token.clientId, expires_at: token.expiresAt, created_at: now })
    .onConflict((oc) => oc.column('jti').doNothing())
    .execute();
}

/** Revocations after `afterId` that still matter at `now`, oldest first. */
export async function listRevokedTokensSince(
  db: Kysely<Database>,
  afterId: number,
  now: number,
  limit = 1000,
): Promise<RevokedToken[]> {
  const rows = await db
    .selectFrom('revoked_tokens')
    .select(['id', 'jti', 'expires_at'])
    .where('id', '>', afterId)
    .where('expires_at', '>', now)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, jti: r.jti, expiresAt: r.expires_at }));
}

export async function lastRevokedTokenId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('revoked_tokens')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Deletes rows whose token has expired: such a token is refused for its `exp` alone. */
export async function pruneRevokedTokens(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('revoked_tokens').where('expires_at', '<=', now).execute();
}
