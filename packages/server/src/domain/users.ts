import type { ApiKey, Membership, Role, User, WorkspaceScope } from '../model/types.ts';
import {
  findMembership,
  findUserByEmail,
  findUserById,
  listOrganizationsOfUser,
} from '../storage/repositories/users.ts';
import type { Db } from '../storage/transaction.ts';
import { decoyHash, verifyPassword } from './passwords.ts';
import { tenantLabel } from './tenants.ts';
import { intersectWorkspaces } from './workspaces.ts';

export const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

/**
 * Checks an email and password. An unknown email costs one scrypt against a decoy hash, exactly
 * as a wrong password does, so neither the answer nor its timing tells whether the account exists.
 */
export async function checkCredentials(
  db: Db,
  email: string,
  password: string,
): Promise<{ ok: true; user: User } | { ok: false; userId: number | null }> {
  const found = await findUserByEmail(db, email);
  const valid = await verifyPassword(password, found?.passwordHash ?? (await decoyHash()));
  if (!found || !valid) return { ok: false, userId: found?.id ?? null };
  return { ok: true, user: { id: found.id, email: found.email, displayName: found.displayName } };
}

/** A user by id (the account page, the bearer path), if the account exists. */
export function findUser(db: Db, userId: number): Promise<User | undefined> {
  return findUserById(db, userId);
}

/** Whether an account with this email exists (the CLI asks for a new account's password only). */
export async function hasAccount(db: Db, email: string): Promise<boolean> {
  return (await findUserByEmail(db, email)) !== undefined;
}

/** Whether the user is a member of the tenant. */
export async function isMember(db: Db, tenantId: number, userId: number): Promise<boolean> {
  return (await findMembership(db, tenantId, userId)) !== undefined;
}

/** An organization a user belongs to, and their role in it. */
export interface OrganizationOfUser {
  tenantId: number;
  label: string;
  role: Role;
}

/** Every organization the user belongs to, by name (the console's organization switcher). */
export function organizationsOf(db: Db, userId: number): Promise<OrganizationOfUser[]> {
  return listOrganizationsOfUser(db, userId);
}

/** A user with their membership of a tenant, or undefined when they are not a member. */
export async function memberOf(
  db: Db,
  tenantId: number,
  userId: number,
): Promise<{ user: User; membership: Membership } | undefined> {
  const [user, membership] = await Promise.all([
    findUserById(db, userId),
    findMembership(db, tenantId, userId),
  ]);
  return user && membership ? { user, membership } : undefined;
}

/** What a user reaches through a key: their membership of its tenant and the workspaces both allow. */
export interface AccessThroughKey {
  user: User;
  membership: Membership;
  tenantLabel: string;
  /** The intersection of the key's workspace scope and the user's workspaces. */
  scope: WorkspaceScope;
}

/**
 * The access a user has through a key (an OAuth client), or undefined when the user is not a member of
 * the key's tenant. The workspace scope is the intersection of the key's and the user's: a user token
 * never reaches more than the key would, nor more than the user could.
 */
export async function accessThroughKey(
  db: Db,
  key: ApiKey,
  userId: number,
): Promise<AccessThroughKey | undefined> {
  const [found, label] = await Promise.all([
    memberOf(db, key.tenantId, userId),
    tenantLabel(db, key.tenantId),
  ]);
  if (!found || label === undefined) return undefined;
  const workspaceIds = intersectWorkspaces(key.workspaceId, found.membership.workspaceIds);
  return { ...found, tenantLabel: label, scope: { tenantId: key.tenantId, workspaceIds } };
}
