import {
  deleteExpiredSessions,
  deleteSessionByHash,
  findSessionByHash,
  insertSession,
  type SessionRecord,
} from '../storage/repositories/sessions.ts';
import type { Db } from '../storage/transaction.ts';
import { hashToken, randomToken } from './opaque-tokens.ts';

/** A browser session lasts a working day at most; then the user signs in again. */
export const SESSION_TTL_MS = 12 * 3_600_000;

/**
 * Starts a session after a successful sign-in. The token goes into the cookie and only its sha256
 * into the database; a fresh token on every sign-in defeats session fixation.
 */
export async function startSession(
  db: Db,
  userId: number,
  now = Date.now(),
): Promise<{ token: string; session: SessionRecord }> {
  const token = randomToken('gss_');
  const session = await insertSession(
    db,
    { tokenHash: hashToken(token), userId, expiresAt: now + SESSION_TTL_MS },
    now,
  );
  return { token, session };
}

/** The live session behind a cookie value, if any. */
export async function findSession(
  db: Db,
  token: string,
  now = Date.now(),
): Promise<SessionRecord | undefined> {
  if (!/^gss_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  return findSessionByHash(db, hashToken(token), now);
}

/** Ends a session (sign-out); ending an unknown one is a no-op. */
export async function endSession(db: Db, token: string): Promise<void> {
  await deleteSessionByHash(db, hashToken(token));
}

export function pruneSessions(db: Db, now = Date.now()): Promise<void> {
  return deleteExpiredSessions(db, now);
}
