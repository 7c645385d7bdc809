import type { Kysely } from 'kysely';
import type { ConsentListing, ConsentRecord } from '../../model/types.ts';
import type { Database } from '../schema.ts';

export async function findConsent(
  db: Kysely<Database>,
  userId: number,
  apiKeyId: number,
): Promise<ConsentRecord | undefined> {
  const row = await db
    .selectFrom('consents')
    .select(['user_id', 'api_key_id', 'scope', 'created_at'])
    .where('user_id', '=', userId)
    .where('api_key_id', '=', apiKeyId)
    .executeTakeFirst();
  return (
    row && { userId: row.user_id, apiKeyId: row.api_key_id, scope: row.scope, createdAt: row.created_at }
  );
}

/** Records (or widens) the consent of a user to a key. */
export async function upsertConsent(
  db: Kysely<Database>,
  consent: { userId: number; apiKeyId: number; scope: string },
  now: number,
): Promise<void> {
  await db
    .insertInto('consents')
    .values({ user_id: consent.userId, api_key_id: consent.apiKeyId, scope: consent.scope, created_at: now })
    .onConflict((oc) =>
      oc.columns(['user_id', 'api_key_id']).doUpdateSet({ scope: consent.scope, created_at: now }),
    )
    .execute();
}

/** Deletes the consent of a user to a key; true when there was one. */
export async function deleteConsent(
  db: Kysely<Database>,
  userId: number,
  apiKeyId: number,
): Promise<boolean> {
  const result = await db
    .deleteFrom('consents')
    .where('user_id', '=', userId)
    .where('api_key_id', '=', apiKeyId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes every consent given to a key (the key was revoked). */
export async function deleteConsentsOfKey(db: Kysely<Database>, apiKeyId: number): Promise<void> {
  await db.deleteFrom('consents').where('api_key_id', '=', apiKeyId).execute();
}

/** The applications a user has authorized (of one tenant's keys, when given), newest first. */
export async function listConsentsOfUser(
  db: Kysely<Database>,
  userId: number,
  tenantId?: number,
): Promise<ConsentListing[]> {
  const rows = await db
    .selectFrom('consents as c')
    .innerJoin('api_keys as k', 'k.id', 'c.api_key_id')
    .innerJoin('tenants as t', 't.id', 'k.tenant_id')
    .select(['k.public_key', 'k.label', 'k.tenant_id', 't.label as tenant_label', 'c.scope', 'c.created_at'])
    .where('c.user_id', '=', userId)
    .$if(tenantId !== undefined, (q) => q.where('k.tenant_id', '=', tenantId ?? 0))
    .orderBy('c.created_at', 'desc')
    .orderBy('c.id', 'desc')
    .execute();
  return rows.map((r) => ({
    publicKey: r.public_key,
    label: r.label,
    tenantId: r.tenant_id,
    tenantLabel: r.tenant_label,
    scope: r.scope,
    createdAt: r.created_at,
  }));
}

/** Deletes a user's consents to the keys of a tenant (they left it). */
export async function deleteConsentsOfUserInTenant(
  db: Kysely<Database>,
  userId: number,
  tenantId: number,
): Promise<void> {
  await db
    .deleteFrom('consents')
    .where('user_id', '=', userId)
    .where('api_key_id', 'in', (eb) =>
      eb.selectFrom('api_keys').select('id').where('tenant_id', '=', tenantId),
    )
    .execute();
}
