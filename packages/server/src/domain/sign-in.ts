import { ProblemError } from '../errors/errors.ts';
import type { ApiKey, User } from '../model/types.ts';
import type { Db } from '../storage/transaction.ts';
import { audit, userActor } from './audit.ts';
import type { SignInThrottle } from './sign-in-throttle.ts';
import { accessThroughKey, checkCredentials, isMember } from './users.ts';

export interface SignInInput {
  email: string;
  password: string;
  ip: string;
  /** The application the sign-in is for (its authorization request), if any. */
  client: ApiKey | undefined;
}

export type SignInOutcome =
  | { kind: 'ok'; user: User }
  /** A wrong password or an unknown account: one answer for both (DESIGN.md 3 rule 8). */
  | { kind: 'failed' }
  /** The password was right, but the account is not a member of the client's organization. */
  | { kind: 'not_member'; user: User }
  | { kind: 'throttled'; retryAfterSeconds: number }
  /** Too many password checks in progress on this instance; nothing was checked or counted. */
  | { kind: 'busy'; retryAfterSeconds: number };

/**
 * Checks a sign-in. The attempt takes its place in the per-account and per-address budgets before
 * the password is checked, so concurrent guesses are counted as they start, not as they end.
 */
export async function signIn(db: Db, throttle: SignInThrottle, input: SignInInput): Promise<SignInOutcome> {
  const reservation = await throttle.reserve(input.email, input.ip);
  if (!reservation.ok) return { kind: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
  const { attempt } = reservation;
  let result: Awaited<ReturnType<typeof checkCredentials>>;
  try {
    result =
      input.email && input.password
        ? await checkCredentials(db, input.email, input.password)
        : { ok: false, userId: null };
  } catch (error) {
    if (!(error instanceof ProblemError) || error.code !== 'busy') throw error;
    await throttle.cancel(attempt);
    return { kind: 'busy', retryAfterSeconds: Number(error.headers['retry-after'] ?? 1) };
  }
  if (!result.ok) {
    await auditFailure(db, input, result.userId);
    return { kind: 'failed' };
  }
  await throttle.succeeded(attempt);
  const { user } = result;
  if (input.client && !(await accessThroughKey(db, input.client, user.id))) {
    // Only someone who knows the password gets this far, so saying so is no oracle.
    const entry = {
      tenantId: input.client.tenantId,
      target: input.client.publicKey,
      details: { reason: 'not_member' },
    };
    await audit(db, userActor(user.id, input.ip), 'login.refused', entry);
    return { kind: 'not_member', user };
  }
  return { kind: 'ok', user };
}

/**
 * Audits a failed sign-in. A tenant's log says only what happens to its own members: a failure for an
 * account of another organization, or for no account, is recorded without tenant, so that knowing a
 * public client_id does not make an organization's log tell which emails exist elsewhere. The email is
 * never recorded: people type their password into it.
 */
async function auditFailure(db: Db, input: SignInInput, userId: number | null): Promise<void> {
  const client = input.client;
  const member = client !== undefined && userId !== null && (await isMember(db, client.tenantId, userId));
  const entry = {
    tenantId: member ? client.tenantId : null,
    target: userId === null ? null : `user:${userId}`,
    details: { reason: userId === null ? 'unknown_account' : 'wrong_password' },
  };
  await audit(db, { actor: 'anonymous', ip: input.ip }, 'login.failed', entry);
}
