import { ProblemError } from '../errors/errors.ts';
import type { User } from '../model/types.ts';
import {
  consumeSignInLink,
  findSignInLinkByHash,
  insertSignInLink,
} from '../storage/repositories/sign-in-links.ts';
import { setPasswordHash } from '../storage/repositories/users.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { audit } from './audit.ts';
import { hashNewPassword } from './passwords.ts';
import { hashSecret, isOpaqueToken, randomToken } from './secrets.ts';
import { findUser } from './users.ts';

/** A link lives a day, and works once. */
export const SIGN_IN_LINK_TTL_MS = 24 * 3_600_000;

const LINK_PREFIX = 'gsl_';

/** The page a sign-in link opens, with its token in the query (never in a path, which logs keep). */
export function signInLinkUrl(issuer: string, token: string): string {
  return `${issuer}/console/welcome?token=${token}`;
}

/** Issues a link for a new account; only its sha256 is stored. Call inside the transaction that adds the member. */
export async function issueSignInLink(
  trx: Db,
  userId: number,
  tenantId: number,
  now: number,
): Promise<string> {
  const token = randomToken(LINK_PREFIX);
  await insertSignInLink(
    trx,
    { tokenHash: hashSecret(token), userId, tenantId, expiresAt: now + SIGN_IN_LINK_TTL_MS },
    now,
  );
  return token;
}

/** The account a live link is for, or undefined for an unknown, used or expired link (the welcome page). */
export async function accountOfLink(db: Db, token: string, now = Date.now()): Promise<User | undefined> {
  if (!isOpaqueToken(LINK_PREFIX, token)) return undefined;
  const link = await findSignInLinkByHash(db, hashSecret(token));
  if (!link || link.usedAt !== null || link.expiresAt <= now) return undefined;
  return findUser(db, link.userId);
}

/**
 * Uses a link: the account's first password is set and the link is spent, in one transaction, so that of
 * two uses only one succeeds. Returns the account, to sign its browser in.
 */
export async function redeemSignInLink(
  db: Db,
  token: string,
  password: string,
  ip: string | null,
): Promise<User> {
  const gone = new ProblemError('not_found', 'this sign-in link is unknown, used or expired');
  if (!isOpaqueToken(LINK_PREFIX, token)) throw gone;
  const link = await findSignInLinkByHash(db, hashSecret(token));
  if (!link || link.usedAt !== null || link.expiresAt <= Date.now()) throw gone;
  // Hashed before the transaction: scrypt takes ~100 ms, too long to hold SQLite's write lock.
  const passwordHash = await hashNewPassword(password);
  const now = Date.now();
  await inTransaction(db, async (trx) => {
    if (!(await consumeSignInLink(trx, link.id, now))) throw gone;
    await setPasswordHash(trx, link.userId, passwordHash);
    const by = { actor: `user:${link.userId}`, ip };
    await audit(
      trx,
      by,
      'member.signed_in_by_link',
      { tenantId: link.tenantId, target: `user:${link.userId}` },
      now,
    );
  });
  const user = await findUser(db, link.userId);
  if (!user) throw gone;
  return user;
}
