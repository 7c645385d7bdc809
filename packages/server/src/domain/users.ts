import { ProblemError } from '../errors/errors.ts';
import { insertAuditEvent } from '../storage/repositories/audit.ts';
import { findTenant } from '../storage/repositories/tenants.ts';
import {
  findMembership,
  findUserByEmail,
  findUserById,
  insertMembership,
  insertUser,
  type Membership,
} from '../storage/repositories/users.ts';
import { findWorkspace, type WorkspaceScope } from '../storage/repositories/workspaces.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import type { Actor } from './audit.ts';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import type { ApiKey, Role, User } from './types.ts';

export const ROLES: readonly Role[] = ['owner', 'admin', 'member'];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

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

async function hashNew(password: string | undefined): Promise<string> {
  if (password === undefined) throw new ProblemError('validation_failed', 'a new user needs a password');
  const problem = passwordProblem(password);
  if (problem) throw new ProblemError('validation_failed', problem);
  return hashPassword(password);
}

/**
 * Adds a user to an organization with a role, creating the account when the email is new.
 * An account that already exists (a member of another organization) is added as is: its password
 * stays its owner's, since letting one organization set another's member's password would be a takeover.
 */
export async function addMember(db: Db, input: NewMemberInput, by: Actor): Promise<AddedMember> {
  const role = checkRole(input.role);
  const email = input.email.trim();
  if (!EMAIL.test(email) || email.length > 254)
    throw new ProblemError('validation_failed', 'email is not an email address');
  const workspaceIds = [...new Set(input.workspaceIds ?? [])];
  if (workspaceIds.length && role !== 'member') {
    throw new ProblemError('validation_failed', 'only members can be limited to workspaces');
  }
  if (!(await findTenant(db, input.tenantId)))
    throw new ProblemError('not_found', `no organization ${input.tenantId}`);
  for (const id of workspaceIds) {
    if (!(await findWorkspace(db, { tenantId: input.tenantId, workspaceIds: null }, id)))
      throw new ProblemError('not_found', `no workspace ${id} in organization ${input.tenantId}`);
  }
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
    : { email, displayName: input.displayName ?? null, passwordHash: await hashNew(input.password) };
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    const user = newUser ? await insertUser(trx, newUser, now) : existing;
    if (!user) throw new Error('unreachable: either the user exists or a new one was prepared');
    await insertMembership(trx, input.tenantId, user.id, role, workspaceIds, now);
    await insertAuditEvent(
      trx,
      {
        tenantId: input.tenantId,
        ...by,
        action: 'member.added',
        target: `user:${user.id}`,
        details: { role, workspaceIds, created: !existing },
      },
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
  const [found, tenant] = await Promise.all([
    memberOf(db, key.tenantId, userId),
    findTenant(db, key.tenantId),
  ]);
  if (!found || !tenant) return undefined;
  let ids: number[] | null = key.workspaceId === null ? null : [key.workspaceId];
  const userIds = found.membership.workspaceIds;
  if (userIds !== null) ids = ids === null ? userIds : ids.filter((id) => userIds.includes(id));
  return { ...found, tenantLabel: tenant.label, scope: { tenantId: key.tenantId, workspaceIds: ids } };
}
