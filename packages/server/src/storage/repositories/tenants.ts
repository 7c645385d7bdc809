import type { Kysely } from 'kysely';
import type { Tenant } from '../../model/types.ts';
import type { Database } from '../schema.ts';

export async function insertTenant(db: Kysely<Database>, label: string, now: number): Promise<Tenant> {
  const row = await db
    .insertInto('tenants')
    .values({ label, created_at: now })
    .returning(['id', 'label', 'created_at'])
    .executeTakeFirstOrThrow();
  return { id: row.id, label: row.label, createdAt: row.created_at };
}

export async function findTenant(db: Kysely<Database>, id: number): Promise<Tenant | undefined> {
  const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  return row && { id: row.id, label: row.label, createdAt: row.created_at };
}

/**
 * Takes the tenant's row lock until the transaction ends, so that changes checked against the whole
 * organization (its last owner) are made one at a time. PostgreSQL has each transaction see only what
 * was committed when its statements start: two demotions of two owners would each still see the other
 * owner and both pass. A write to the one row they share makes the second wait for the first; SQLite
 * serializes writes anyway.
 */
export async function lockTenant(db: Kysely<Database>, tenantId: number): Promise<void> {
  await db
    .updateTable('tenants')
    .set((eb) => ({ label: eb.ref('label') }))
    .where('id', '=', tenantId)
    .execute();
}

export async function countTenants(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every tenant, by id. */
export async function listAllTenants(db: Kysely<Database>): Promise<Tenant[]> {
  const rows = await db.selectFrom('tenants').selectAll().orderBy('id').execute();
  return rows.map((row) => ({ id: row.id, label: row.label, createdAt: row.created_at }));
}
