import { randomBytes } from 'node:crypto';
import { invalidField, ProblemError } from '../errors/errors.ts';
import type { Member, Page, PageQuery, Role, User } from '../model/types.ts';
import { deleteUnusedCodesOfUserInTenant } from '../storage/repositories/authorization-codes.ts';
import { deleteConsentsOfUserInTenant } from '../storage/repositories/consents.ts';
import {
  listLiveAccessTokensOfUserInTenant,
  revokeRefreshTokensOfUserInTenant,
} from '../storage/repositories/refresh-tokens.ts';
import { deleteSessionsOfUser } from '../storage/repositories/sessions.ts';
import { lockTenant } from '../storage/repositories/tenants.ts';
import {
  countOwners,
  deleteMembership,
  findMember,
  findMembership,
  findUserByEmail,
  insertMembership,
  insertUser,
  listMembers,
  updateMembership,
} from '../storage/repositories/users.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, actsAsOwner, audit } from './audit.ts';
import { type LocalCaches, NO_LOCAL_CACHES } from './local-caches.ts';
import { hashNewPassword, hashPassword } from './passwords.ts';
import { type RevocationSink, revokeAccessTokens } from './revocations.ts';
import { issueSignInLink } from './sign-in-links.ts';
import { requireTenant, requireWorkspace } from './tenants.ts';
import { ROLES } from './users.ts';
import { checkEmail, checkLabel } from './validation.ts';

export interface NewMemberInput {
  tenantId: number;
  email: string;
  /** For a new account: its password; without one, the account gets a one-time sign-in link instead. */
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
  /** For a new account added without a password: the token of its one-time sign-in link (24 h). */
  signInToken?: string;
}

function checkRole(role: string, field = 'role'): Role {
  const found = ROLES.find((r) => r === role);
  if (!found) throw invalidField(field, `role must be one of ${ROLES.join(', ')}`);
  return found;
}

/** Only owners make owners, or change or remove one: an admin cannot take the organization over. */
function requireOwnerFor(by: Actor, what: string): void {
  if (!actsAsOwner(by)) throw new ProblemError('forbidden', `only an owner can ${what}`);
}

async function checkWorkspaces(
  db: Db,
  tenantId: number,
  role: Role,
  ids: readonly number[],
): Promise<number[]> {
  const workspaceIds = [...new Set(ids)];
  if (workspaceIds.length && role !== 'member')
    throw invalidField('workspaceIds', 'only members can be limited to workspaces');
  for (const id of workspaceIds) await requireWorkspace(db, tenantId, id, 'workspaceIds');
  return workspaceIds;
}

/** A password nobody knows, for an account that gets a sign-in link instead: it can never sign in by password. */
async function unusablePassword(): Promise<string> {
  return hashPassword(randomBytes(32).toString('base64url'));
}

/**
 * Adds a user to an organization with a role, creating the account when the email is new. An account
 * that already exists (a member of another organization) is added as is: its password stays its
 * owner's, since letting one organization set another's member's password would be a takeover. A new
 * account without a password gets a one-time sign-in link, shown once, where its person chooses one.
 */
export async function addMember(db: Db, input: NewMemberInput, by: Actor): Promise<AddedMember> {
  const role = checkRole(input.role);
  if (role === 'owner') requireOwnerFor(by, 'add an owner');
  const email = checkEmail(input.email);
  const displayName =
    input.displayName == null ? null : checkLabel(input.displayName, 'displayName', 'displayName');
  await requireTenant(db, input.tenantId);
  const workspaceIds = await checkWorkspaces(db, input.tenantId, role, input.workspaceIds ?? []);
  const existing = await findUserByEmail(db, email);
  if (existing && (await findMembership(db, input.tenantId, existing.id))) {
    throw new ProblemError(
      'conflict',
      `${existing.email} is already a member of organization ${input.tenantId}`,
    );
  }
  // Hashed before the transaction: scrypt takes ~100 ms, too long to hold SQLite's write lock.
  const passwordHash = existing
    ? null
    : input.password === undefined
      ? await unusablePassword()
      : await hashNewPassword(input.password);
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    const user = passwordHash ? await insertUser(trx, { email, displayName, passwordHash }, now) : existing;
    if (!user) throw new Error('unreachable: either the user exists or a new one was prepared');
    await insertMembership(trx, input.tenantId, user.id, role, workspaceIds, now);
    const signInToken =
      !existing && input.password === undefined
        ? await issueSignInLink(trx, user.id, input.tenantId, now)
        : undefined;
    const details = { role, workspaceIds, created: !existing, signInLink: signInToken !== undefined };
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
      ...(signInToken ? { signInToken } : {}),
    };
  });
}

/** One member of the organization, or a 404 problem. */
export async function getMember(db: Db, tenantId: number, userId: number): Promise<Member> {
  const member = await findMember(db, tenantId, userId);
  if (!member) throw new ProblemError('not_found', `no member ${userId}`);
  return member;
}

/** A page of an organization's members, by email. */
export function listTenantMembers(db: Db, tenantId: number, page: PageQuery): Promise<Page<Member>> {
  return listMembers(db, tenantId, page);
}

/** A member of the tenant, or a 404 problem (a user of another organization is as missing as none). */
async function requireMember(db: Db, tenantId: number, userId: number) {
  const membership = await findMembership(db, tenantId, userId);
  if (!membership) throw new ProblemError('not_found', `no member ${userId}`);
  return membership;
}

/** The last owner can be neither demoted nor removed: an organization always has someone who can act. */
async function keepAnOwner(trx: Db, tenantId: number): Promise<void> {
  if ((await countOwners(trx, tenantId)) < 1)
    throw new ProblemError(
      'conflict',
      'the last owner of an organization can be neither demoted nor removed',
    );
}

export interface MemberChanges {
  role?: string | undefined;
  /** The workspaces a member is limited to; empty: every workspace. */
  workspaceIds?: number[] | undefined;
}

/** Changes a member's role or workspaces, in one transaction with its audit event. */
export async function updateMember(
  db: Db,
  tenantId: number,
  userId: number,
  changes: MemberChanges,
  by: Actor,
  caches: LocalCaches = NO_LOCAL_CACHES,
): Promise<Member> {
  const before = await requireMember(db, tenantId, userId);
  const role = changes.role === undefined ? before.role : checkRole(changes.role);
  if (role !== before.role && (role === 'owner' || before.role === 'owner'))
    requireOwnerFor(by, role === 'owner' ? 'make an owner' : 'demote an owner');
  const workspaceIds =
    changes.workspaceIds !== undefined
      ? await checkWorkspaces(db, tenantId, role, changes.workspaceIds)
      : role === 'member'
        ? undefined
        : [];
  const now = Date.now();
  await inTransaction(db, async (trx) => {
    await lockTenant(trx, tenantId);
    await updateMembership(trx, tenantId, userId, {
      ...(role !== before.role ? { role } : {}),
      ...(workspaceIds !== undefined ? { workspaceIds } : {}),
    });
    // Checked after the write, under the tenant's lock: of two demotions at once, the second sees the first.
    if (before.role === 'owner' && role !== 'owner') await keepAnOwner(trx, tenantId);
    const details = { role, previousRole: before.role, workspaceIds: workspaceIds ?? before.workspaceIds };
    await audit(trx, by, 'member.updated', { tenantId, target: `user:${userId}`, details }, now);
  });
  caches.memberChanged(userId);
  return getMember(db, tenantId, userId);
}

/**
 * Removes a member. What they hold in the organization ends with it: their consents to its keys, their
 * codes not yet exchanged, their refresh tokens and the access tokens issued from them (refused on this
 * instance at once), and their browser sessions.
 */
export async function removeMember(
  db: Db,
  sink: RevocationSink,
  tenantId: number,
  userId: number,
  by: Actor,
  caches: LocalCaches = NO_LOCAL_CACHES,
): Promise<void> {
  const before = await requireMember(db, tenantId, userId);
  if (before.role === 'owner') requireOwnerFor(by, 'remove an owner');
  const now = Date.now();
  await inTransaction(db, async (trx) => {
    await lockTenant(trx, tenantId);
    if (!(await deleteMembership(trx, tenantId, userId)))
      throw new ProblemError('not_found', `no member ${userId}`);
    if (before.role === 'owner') await keepAnOwner(trx, tenantId);
    await deleteConsentsOfUserInTenant(trx, userId, tenantId);
    await deleteUnusedCodesOfUserInTenant(trx, userId, tenantId);
    await revokeRefreshTokensOfUserInTenant(trx, userId, tenantId, now);
    await revokeAccessTokens(
      trx,
      sink,
      await listLiveAccessTokensOfUserInTenant(trx, userId, tenantId, now),
      now,
    );
    await deleteSessionsOfUser(trx, userId);
    await audit(
      trx,
      by,
      'member.removed',
      { tenantId, target: `user:${userId}`, details: { role: before.role } },
      now,
    );
  });
  caches.memberChanged(userId);
}
