import type { Kysely } from 'kysely';
import type { RefreshTokenRecord } from '../../model/types.ts';
import type { Database } from '../schema.ts';

export async function insertRefreshToken(
  db: Kysely<Database>,
  token: Omit<RefreshTokenRecord, 'id' | 'rotatedAt' | 'revokedAt'> & { tokenHash: string },
  now: number,
): Promise<void> {
  await db
    .insertInto('refresh_tokens')
    .values({
      token_hash: token.tokenHash,
      family_id: token.familyId,
      parent_id: token.parentId,
      api_key_id: token.apiKeyId,
      user_id: token.userId,
      scope: token.scope,
      created_at: now,
      expires_at: token.expiresAt,
    })
    .execute();
}

export async function findRefreshTokenByHash(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<RefreshTokenRecord | undefined> {
  const row = await db
    .selectFrom('refresh_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return (
    row && {
      id: row.id,
      familyId: row.family_id,
      parentId: row.parent_id,
      apiKeyId: row.api_key_id,
      userId: row.user_id,
      scope: row.scope,
      expiresAt: row.expires_at,
      rotatedAt: row.rotated_at,
      revokedAt: row.revoked_at,
    }
  );
}

/** Marks a token rotated, once: of two concurrent uses only one wins (returns true). */
export async function markRotated(db: Kysely<Database>, id: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ rotated_at: now })
    .where('id', '=', id)
    .where('rotated_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Revokes every refresh token of the given families. */
export async function revokeFamilies(db: Kysely<Database>, familyIds: string[], now: number): Promise<void> {
  if (!familyIds.length) return;
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('family_id', 'in', familyIds)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Revokes every refresh token of a key, or of one user for a key. */
export async function revokeRefreshTokensOf(
  db: Kysely<Database>,
  apiKeyId: number,
  userId: number | null,
  now: number,
): Promise<void> {
  let query = db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('api_key_id', '=', apiKeyId)
    .where('revoked_at', 'is', null);
  if (userId !== null) query = query.where('user_id', '=', userId);
  await query.execute();
}

export async function insertGrantAccessToken(
  db: Kysely<Database>,
  token: { familyId: string; jti: string; apiKeyId: number; userId: number; expiresAt: number },
): Promise<void> {
  await db
    .insertInto('grant_access_tokens')
    .values({
      family_id: token.familyId,
      jti: token.jti,
      api_key_id: token.apiKeyId,
      user_id: token.userId,
      expires_at: token.expiresAt,
    })
    .execute();
}

/** Access tokens, still unexpired at `now`, issued from a set of families or to a key (and user). */
export async function listLiveGrantAccessTokens(
  db: Kysely<Database>,
  where: { familyIds: string[] } | { apiKeyId: number; userId: number | null },
  now: number,
): Promise<{ jti: string; expiresAt: number }[]> {
  let query = db
    .selectFrom('grant_access_tokens')
    .select(['jti', 'expires_at'])
    .where('expires_at', '>', now);
  if ('familyIds' in where) {
    if (!where.familyIds.length) return [];
    query = query.where('family_id', 'in', where.familyIds);
  } else {
    query = query.where('api_key_id', '=', where.apiKeyId);
    if (where.userId !== null) query = query.where('user_id', '=', where.userId);
  }
  const rows = await query.execute();
  return rows.map((r) => ({ jti: r.jti, expiresAt: r.expires_at }));
}

/** Deletes rows that no longer matter: expired access-token records, dead refresh tokens. */
export async function pruneGrants(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('grant_access_tokens').where('expires_at', '<=', now).execute();
  await db.deleteFrom('refresh_tokens').where('expires_at', '<=', now).execute();
}

/** Revokes a user's refresh tokens at every key of a tenant (they left it). */
export async function revokeRefreshTokensOfUserInTenant(
  db: Kysely<Database>,
  userId: number,
  tenantId: number,
  now: number,
): Promise<void> {
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('api_key_id', 'in', (eb) =>
      eb.selectFrom('api_keys').select('id').where('tenant_id', '=', tenantId),
    )
    .execute();
}

/** A user's access tokens, unexpired at `now`, issued by any key of a tenant, with their client's public key. */
export async function listLiveAccessTokensOfUserInTenant(
  db: Kysely<Database>,
  userId: number,
  tenantId: number,
  now: number,
): Promise<{ jti: string; clientId: string; expiresAt: number }[]> {
  const rows = await db
    .selectFrom('grant_access_tokens as g')
    .innerJoin('api_keys as k', 'k.id', 'g.api_key_id')
    .select(['g.jti', 'g.expires_at', 'k.public_key'])
    .where('g.user_id', '=', userId)
    .where('k.tenant_id', '=', tenantId)
    .where('g.expires_at', '>', now)
    .execute();
  return rows.map((r) => ({ jti: r.jti, clientId: r.public_key, expiresAt: r.expires_at }));
}
