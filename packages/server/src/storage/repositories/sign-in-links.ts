import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** A one-time sign-in link, as found by the hash of its token. */
export interface SignInLinkRecord {
  id: number;
  userId: number;
  tenantId: number;
  expiresAt: number;
  usedAt: number | null;
}

export async function insertSignInLink(
  db: Kysely<Database>,
  link: { tokenHash: string; userId: number; tenantId: number; expiresAt: number },
  now: number,
): Promise<void> {
  await db
    .insertInto('sign_in_links')
    .values({
      token_hash: link.tokenHash,
      user_id: link.userId,
      tenant_id: link.tenantId,
      created_at: now,
      expires_at: link.expiresAt,
    })
    .execute();
}

export async function findSignInLinkByHash(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<SignInLinkRecord | undefined> {
  const row = await db
    .selectFrom('sign_in_links')
    .select(['id', 'user_id', 'tenant_id', 'expires_at', 'used_at'])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return (
    row && {
      id: row.id,
      userId: row.user_id,
      tenantId: row.tenant_id,
      expiresAt: row.expires_at,
      usedAt: row.used_at,
    }
  );
}

/** Marks a link used, once: of two concurrent uses only one wins (returns true). */
export async function consumeSignInLink(db: Kysely<Database>, id: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('sign_in_links')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deletes links that can no longer be used. */
export async function deleteDeadSignInLinks(db: Kysely<Database>, now: number): Promise<void> {
  await db
    .deleteFrom('sign_in_links')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('used_at', 'is not', null)]))
    .execute();
}
