import type { Kysely } from 'kysely';
import type { Member, Membership, Page, PageQuery, Role, User } from '../../model/types.ts';
import type { Database } from '../schema.ts';
import { likeLower } from './like.ts';

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

/** The organizations a user belongs to, with their role in each, by organization name. */
export async function listOrganizationsOfUser(
  db: Kysely<Database>,
  userId: number,
): Promise<{ tenantId: number; label: string; role: Role }[]> {
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('tenants as t', 't.id', 'm.tenant_id')
    .select(['t.id', 't.label', 'm.role'])
    .where('m.user_id', '=', userId)
    .orderBy('t.label')
    .orderBy('t.id')
    .execute();
  return rows.map((r) => ({ tenantId: r.id, label: r.label, role: r.role }));
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

/** A page of a tenant's members, by email; `q` searches email and display name. */
export async function listMembers(
  db: Kysely<Database>,
  tenantId: number,
  page: PageQuery,
): Promise<Page<Member>> {
  const matching = () => {
    let select = db
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .where('m.tenant_id', '=', tenantId);
    if (page.q) {
      const q = page.q;
      select = select.where((eb) => eb.or([likeLower('u.email', q), likeLower('u.display_name', q)]));
    }
    return select;
  };
  const [rows, total] = await Promise.all([
    matching()
      .select(['u.id', 'u.email', 'u.display_name', 'm.role', 'm.created_at'])
      .orderBy('u.email', page.asc === false ? 'desc' : 'asc')
      .limit(page.size)
      .offset((page.page - 1) * page.size)
      .execute(),
    matching()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  const limits = rows.length
    ? await db
        .selectFrom('membership_workspaces')
        .select(['user_id', 'workspace_id'])
        .where('tenant_id', '=', tenantId)
        .where(
          'user_id',
          'in',
          rows.map((r) => r.id),
        )
        .orderBy('workspace_id')
        .execute()
    : [];
  const items = rows.map((row) => {
    const workspaceIds = limits.filter((l) => l.user_id === row.id).map((l) => l.workspace_id);
    return {
      id: row.id,
      email: row.email,
      displayName: row.display_name,
      role: row.role,
      workspaceIds: workspaceIds.length ? workspaceIds : null,
      createdAt: row.created_at,
    };
  });
  return { items, total: Number(total.n) };
}

/** Changes a member's role and, when given, the workspaces they are limited to (empty: none, all of them). */
export async function updateMembership(
  db: Kysely<Database>,
  tenantId: number,
  userId: number,
  changes: { role?: Role; workspaceIds?: number[] },
): Promise<void> {
  if (changes.role !== undefined) {
    await db
      .updateTable('memberships')
      .set({ role: changes.role })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .execute();
  }
  if (changes.workspaceIds !== undefined) {
    await db
      .deleteFrom('membership_workspaces')
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .execute();
    if (changes.workspaceIds.length) {
      await db
        .insertInto('membership_workspaces')
        .values(
          changes.workspaceIds.map((workspace_id) => ({
            tenant_id: tenantId,
            user_id: userId,
            workspace_id,
          })),
        )
        .execute();
    }
  }
}

/** Removes a user from a tenant; true when they were a member. */
export async function deleteMembership(
  db: Kysely<Database>,
  tenantId: number,
  userId: number,
): Promise<boolean> {
  await db
    .deleteFrom('membership_workspaces')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .execute();
  const result = await db
    .deleteFrom('memberships')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** How many owners a tenant has. */
export async function countOwners(db: Kysely<Database>, tenantId: number): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Replaces a user's password hash. */
export async function setPasswordHash(
  db: Kysely<Database>,
  userId: number,
  passwordHash: string,
): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}

/** One member of a tenant, as {@link listMembers} shows them. */
export async function findMember(
  db: Kysely<Database>,
  tenantId: number,
  userId: number,
): Promise<Member | undefined> {
  const row = await db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email', 'u.display_name', 'm.role', 'm.created_at'])
    .where('m.tenant_id', '=', tenantId)
    .where('m.user_id', '=', userId)
    .executeTakeFirst();
  if (!row) return undefined;
  const membership = await findMembership(db, tenantId, userId);
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    workspaceIds: membership?.workspaceIds ?? null,
    createdAt: row.created_at,
  };
}
