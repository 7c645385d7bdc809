import type { Kysely } from 'kysely';
import type { Membership, Role, User } from '../../model/types.ts';
import type { Database } from '../schema.ts';

export interface UserWithHash extends User {
  passwordHash: string;
}

/** Emails are stored lower-cased: one account per address whatever its spelling. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findUserByEmail(
  db: Kysely<Database>,
  email: string,
): Promise<UserWithHash | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', normalizeEmail(email))
    .executeTakeFirst();
  return (
    row && { id: row.id, email: row.email, displayName: row.display_name, passwordHash: row.password_hash }
  );
}

export async function findUserById(db: Kysely<Database>, id: number): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'email', 'display_name'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row && { id: row.id, email: row.email, displayName: row.display_name };
}

export async function insertUser(
  db: Kysely<Database>,
  user: { email: string; displayName: string | null; passwordHash: string },
  now: number,
): Promise<User> {
  const row = await db
    .insertInto('users')
    .values({
      email: normalizeEmail(user.email),
      display_name: user.displayName,
      password_hash: user.passwordHash,
      created_at: now,
    })
    .returning(['id', 'email', 'display_name'])
    .executeTakeFirstOrThrow();
  return { id: row.id, email: row.email, displayName: row.display_name };
}

export async function insertMembership(
  db: Kysely<Database>,
  tenantId: number,
  userId: number,
  role: Role,
  workspaceIds: number[],
  now: number,
): Promise<void> {
  await db
    .insertInto('memberships')
    .values({ tenant_id: tenantId, user_id: userId, role, created_at: now })
    .execute();
  if (workspaceIds.length) {
    await db
      .insertInto('membership_workspaces')
      .values(workspaceIds.map((workspace_id) => ({ tenant_id: tenantId, user_id: userId, workspace_id })))
      .execute();
  }
}

export async function findMembership(
  db: Kysely<Database>,
  tenantId: number,
  userId: number,
): Promise<Membership | undefined> {
  const row = await db
    .selectFrom('memberships')
    .select(['tenant_id', 'user_id', 'role'])
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) return undefined;
  const workspaces = await db
    .selectFrom('membership_workspaces')
    .select('workspace_id')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .execute();
  return {
    tenantId: row.tenant_id,
    userId: row.user_id,
    role: row.role,
    workspaceIds: workspaces.length ? workspaces.map((w) => w.workspace_id) : null,
  };
}
