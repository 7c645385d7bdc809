import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** Sets (or, with null, clears) a user's display name; true when the user exists. */
export async function setDisplayName(
  db: Kysely<Database>,
  userId: number,
  displayName: string | null,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ display_name: displayName })
    .where('id', '=', userId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A member of a tenant as the audit log names them. */
export interface MemberName {
  id: number;
  email: string;
  displayName: string | null;
}

/**
 * The members of a tenant among `userIds`, in one query: users who are not (or no longer) members of
 * it are left out, so that a tenant never learns the email of someone outside it.
 */
export async function listMemberNames(
  db: Kysely<Database>,
  tenantId: number,
  userIds: readonly number[],
): Promise<MemberName[]> {
  if (!userIds.length) return [];
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email', 'u.display_name'])
    .where('m.tenant_id', '=', tenantId)
    .where('m.user_id', 'in', [...userIds])
    .execute();
  return rows.map((r) => ({ id: r.id, email: r.email, displayName: r.display_name }));
}
