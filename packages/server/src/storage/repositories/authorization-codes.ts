import type { Kysely } from 'kysely';
import type { CodeRecord } from '../../model/types.ts';
import type { Database } from '../schema.ts';

export async function insertCode(
  db: Kysely<Database>,
  code: Omit<CodeRecord, 'id' | 'consumedAt' | 'familyId'> & { codeHash: string },
  now: number,
): Promise<void> {
  await db
    .insertInto('authorization_codes')
    .values({
      code_hash: code.codeHash,
      api_key_id: code.apiKeyId,
      user_id: code.userId,
      redirect_uri: code.redirectUri,
      scope: code.scope,
      code_challenge: code.codeChallenge,
      nonce: code.nonce,
      auth_time: code.authTime,
      sid: code.sid,
      created_at: now,
      expires_at: code.expiresAt,
    })
    .execute();
}

/** A code by its hash, consumed or not (a consumed one is how a replay is recognized). */
export async function findCodeByHash(
  db: Kysely<Database>,
  codeHash: string,
): Promise<CodeRecord | undefined> {
  const row = await db
    .selectFrom('authorization_codes')
    .selectAll()
    .where('code_hash', '=', codeHash)
    .executeTakeFirst();
  return (
    row && {
      id: row.id,
      apiKeyId: row.api_key_id,
      userId: row.user_id,
      redirectUri: row.redirect_uri,
      scope: row.scope,
      codeChallenge: row.code_challenge,
      expiresAt: row.expires_at,
      consumedAt: row.consumed_at,
      familyId: row.family_id,
      nonce: row.nonce,
      authTime: row.auth_time,
      sid: row.sid,
    }
  );
}

/**
 * Marks a code used, once: the `consumed_at is null` condition makes two concurrent exchanges
 * of the same code race for one row, and only one of them wins (returns true).
 */
export async function consumeCode(
  db: Kysely<Database>,
  id: number,
  familyId: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('authorization_codes')
    .set({ consumed_at: now, family_id: familyId })
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deletes codes that expired before `before` and were never used; used ones stay to detect replays. */
export async function deleteStaleCodes(db: Kysely<Database>, before: number): Promise<void> {
  await db.deleteFrom('authorization_codes').where('expires_at', '<=', before).execute();
}

/**
 * Deletes the codes of a key not yet exchanged, for one user or, with `userId` null, for all: what
 * "remove access" and key revocation void. Used codes stay, so that a replay is still recognized.
 */
export async function deleteUnusedCodes(
  db: Kysely<Database>,
  apiKeyId: number,
  userId: number | null,
): Promise<void> {
  let query = db
    .deleteFrom('authorization_codes')
    .where('api_key_id', '=', apiKeyId)
    .where('consumed_at', 'is', null);
  if (userId !== null) query = query.where('user_id', '=', userId);
  await query.execute();
}

/** Deletes a user's codes not yet exchanged at every key of a tenant (they left it). */
export async function deleteUnusedCodesOfUserInTenant(
  db: Kysely<Database>,
  userId: number,
  tenantId: number,
): Promise<void> {
  await db
    .deleteFrom('authorization_codes')
    .where('user_id', '=', userId)
    .where('consumed_at', 'is', null)
    .where('api_key_id', 'in', (eb) =>
      eb.selectFrom('api_keys').select('id').where('tenant_id', '=', tenantId),
    )
    .execute();
}
