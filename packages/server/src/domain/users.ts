import { ProblemError } from '../errors/errors.ts';
import type { ApiKey, Membership, Role, User, WorkspaceScope } from '../model/types.ts';
import {
  findMembership,
  findUserByEmail,
  findUserById,
  insertMembership,
  insertUser,
} from '../storage/repositories/users.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, audit } from './audit.ts';
import { decoyHash, hashNewPassword, verifyPassword } from './passwords.ts';
import { requireTenant, requireWorkspace, tenantLabel } from './tenants.ts';
import { checkEmail } from './validation.ts';
import { intersectWorkspaces } from './workspaces.ts';

export const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

export interface NewMemberInput {
  tenantId: number;
  email: string;
  /** Needed for a new account only: an existing account keeps its own password. */
  password?: string | undefined;
  displayName?: string | null | undefined;
  role: string;
  /** Limits a member to these workspaces; none means every workspace of the tenant. */
  workspaceIds?: number[] | undefined;
}

export interface AddedMember {
  user: User;
  tenantId: number;
  role: Role;
  workspaceIds: number[] | null;
  /** False when an existing account (of another organization) was added as a member. */
  created: boolean;
}

function checkRole(role: string): Role {
  const found = ROLES.find((r) => r === role);
  if (!found) throw new ProblemError('validation_failed', `role must be one of ${ROLES.join(', ')}`);
  return found;
}

/**
 * Adds a user to an organization with a role, creating the account when the email is new.
 * An account that already exists (a member of another organization) is added as is: its password
 * stays its owner's, since letting one organization set another's member's password would be a takeover.
 */
export async function addMember(db: Db, input: NewMemberInput, by: Actor): Promise<AddedMember> {
  const role = checkRole(input.role);
  const email = checkEmail(input.email);
  const workspaceIds = [...new Set(input.workspaceIds ?? [])];
  if (workspaceIds.length && role !== 'member') {
    throw new ProblemError('validation_failed', 'only members can be limited to workspaces');
  }
  await requireTenant(db, input.tenantId);
  for (const id of workspaceIds) await requireWorkspace(db, input.tenantId, id);
  const existing = await findUserByEmail(db, email);
  if (existing && (await findMembership(db, input.tenantId, existing.id))) {
    throw new ProblemError(
      'conflict',
      `${existing.email} is already a member of organization ${input.tenantId}`,
    );
  }
  // Hashed before the transaction: scrypt takes ~100 ms, too long to hold SQLite's write lock.
  const newUser = existing
    ? null
    : { email, displayName: input.displayName ?? null, passwordHash: await hashNewPassword(input.password) };
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    const user = newUser ? await insertUser(trx, newUser, now) : existing;
    if (!user) throw new Error('unreachable: either the user exists or a new one was prepared');
    await insertMembership(trx, input.tenantId, user.id, role, workspaceIds, now);
    const details = { role, workspaceIds, created: !existing };
    await audit(
      trx,
      by,
      'member.added',
      { tenantId: input.tenantId, target: `user:${user.id}`, details },
      now,
    );
    return {
      user: { id: user.id, email: user.email, displayName: user.displayName },
      tenantId: input.tenantId,
      role,
      workspaceIds: workspaceIds.length ? workspaceIds : null,
      created: !existing,
    };
  });
}

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

/** Whether the user is a member of the tenant. */
export async function isMember(db: Db, tenantId: number, userId: number): Promise<boolean> {
  return (await findMembership(db, tenantId, userId)) !== undefined;
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
