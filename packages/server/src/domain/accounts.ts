import { ProblemError } from '../errors/errors.ts';
import type { User } from '../model/types.ts';
import { setDisplayName } from '../storage/repositories/accounts.ts';
import { deleteSessionsOfUser } from '../storage/repositories/sessions.ts';
import { findUserById, listOrganizationsOfUser, setPasswordHash } from '../storage/repositories/users.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, type AuditAction, audit } from './audit.ts';
import { type LocalCaches, NO_LOCAL_CACHES } from './local-caches.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { startSession } from './sessions.ts';
import type { SignInThrottle } from './sign-in-throttle.ts';
import { checkCredentials } from './users.ts';
import { checkLabel } from './validation.ts';

/**
 * Audits a change a user makes to their own account. An account belongs to no organization, yet each
 * organization it is a member of trusts it: a password change (a possible takeover) or a new name (the
 * one its member list shows) is news to every one of them. So the event is written once per
 * organization, each row naming only that organization, so that none learns of the others; an account
 * of no organization gets one row without tenant (the operator's, like other platform events).
 */
async function auditAccount(
  trx: Db,
  by: Actor,
  action: AuditAction,
  userId: number,
  details: Record<string, unknown> | undefined,
  now: number,
): Promise<void> {
  const organizations = await listOrganizationsOfUser(trx, userId);
  const tenants = organizations.length ? organizations.map((o) => o.tenantId) : [null];
  const entry = { target: `user:${userId}`, ...(details ? { details } : {}) };
  for (const tenantId of tenants) await audit(trx, by, action, { ...entry, tenantId }, now);
}

/**
 * Sets the user's own display name; an empty one clears it (pages then show the email). Validated like
 * every label (1 to 200 characters, no control characters: a 400 problem on field `displayName`).
 * Audited as `user.updated` (the name itself stays out of the log: details are identifiers only).
 * @returns the name now stored.
 */
export async function updateDisplayName(
  db: Db,
  userId: number,
  displayName: string,
  by: Actor,
  caches: LocalCaches = NO_LOCAL_CACHES,
): Promise<string | null> {
  const name = displayName.trim() === '' ? null : checkLabel(displayName, 'display name', 'displayName');
  const now = Date.now();
  const changed = await inTransaction(db, async (trx) => {
    const before = await findUserById(trx, userId);
    if (!before) throw new ProblemError('not_found', `no user ${userId}`);
    if (before.displayName === name) return false;
    await setDisplayName(trx, userId, name);
    await auditAccount(trx, by, 'user.updated', userId, { changed: ['displayName'] }, now);
    return true;
  });
  // User tokens carry the name (`/me`): this instance forgets what it remembered of them.
  if (changed) caches.memberChanged(userId);
  return name;
}

export interface PasswordChangeInput {
  user: User;
  currentPassword: string;
  newPassword: string;
  /** The client's address, for the sign-in budget per address. */
  ip: string;
}

export type PasswordChange =
  /** Changed; every session of the user ended, and this one replaces the caller's. */
  | { kind: 'changed'; sessionToken: string }
  | { kind: 'wrong_password' }
  /** The new password breaks the policy (passwords.ts); nothing was checked or counted. */
  | { kind: 'weak_password'; problem: string }
  | { kind: 'throttled'; retryAfterSeconds: number }
  /** Too many password checks in progress on this instance; nothing was changed. */
  | { kind: 'busy'; retryAfterSeconds: number };

function busyOf(error: unknown): { kind: 'busy'; retryAfterSeconds: number } | undefined {
  if (!(error instanceof ProblemError) || error.code !== 'busy') return undefined;
  return { kind: 'busy', retryAfterSeconds: Number(error.headers['retry-after'] ?? 1) };
}

/**
 * Changes a signed-in user's password, which needs the current one. A stolen session must not turn
 * into the account (a new password) nor into a password oracle: the current password is checked
 * within the same per-account and per-address budgets as a sign-in (sign-in-throttle.ts), charged
 * before the check, and at the cost of a scrypt. A wrong one is audited as `login.failed`.
 *
 * On success every session of the user ends (DESIGN.md 3 rule 8: whoever else knew the old password is
 * signed out everywhere), and a fresh session is started for the caller's browser, in the transaction
 * that sets the password: the returned token replaces its cookie, so its old token dies too.
 */
export async function changePassword(
  db: Db,
  throttle: SignInThrottle,
  input: PasswordChangeInput,
  by: Actor,
): Promise<PasswordChange> {
  const problem = passwordProblem(input.newPassword);
  if (problem) return { kind: 'weak_password', problem };
  const userId = input.user.id;
  const reservation = await throttle.reserve(input.user.email, input.ip);
  if (!reservation.ok) return { kind: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
  const { attempt } = reservation;
  let checked: Awaited<ReturnType<typeof checkCredentials>>;
  try {
    checked = await checkCredentials(db, input.user.email, input.currentPassword);
  } catch (error) {
    const busy = busyOf(error);
    if (!busy) throw error;
    await throttle.cancel(attempt);
    return busy;
  }
  if (!checked.ok || checked.user.id !== userId) {
    await inTransaction(db, (trx) =>
      auditAccount(trx, by, 'login.failed', userId, { reason: 'wrong_current_password' }, Date.now()),
    );
    return { kind: 'wrong_password' };
  }
  await throttle.succeeded(attempt);
  let passwordHash: string;
  try {
    // Hashed before the transaction: scrypt takes ~100 ms, too long to hold SQLite's write lock.
    passwordHash = await hashPassword(input.newPassword);
  } catch (error) {
    const busy = busyOf(error);
    if (!busy) throw error;
    return busy;
  }
  const now = Date.now();
  const sessionToken = await inTransaction(db, async (trx) => {
    await setPasswordHash(trx, userId, passwordHash);
    await deleteSessionsOfUser(trx, userId);
    const { token } = await startSession(trx, userId, now);
    await auditAccount(trx, by, 'user.password_changed', userId, undefined, now);
    return token;
  });
  return { kind: 'changed', sessionToken };
}
