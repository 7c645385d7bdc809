import type { SessionRecord } from '../model/types.ts';
import {
  deleteExpiredSessions,
  deleteSessionByHash,
  findSessionByHash,
  insertSession,
} from '../storage/repositories/sessions.ts';
import type { Db } from '../storage/transaction.ts';
import { hashSecret, isOpaqueToken, randomId, randomToken } from './secrets.ts';

/** A browser session lasts a working day at most; then the user signs in again. */
export const SESSION_TTL_MS = 12 * 3_600_000;

const SESSION_PREFIX = 'gss_';

/**
 * Starts a session after a successful sign-in. The token goes into the cookie and only its sha256
 * into the database; a fresh token on every sign-in defeats session fixation.
 */
export async function startSession(
  db: Db,
  userId: number,
  now = Date.now(),
): Promise<{ token: string; session: SessionRecord }> {
  const token = randomToken(SESSION_PREFIX);
  const session = await insertSession(
    db,
    // The sid is drawn on its own: it is published in ID tokens, so it must reveal nothing of the token.
    { tokenHash: hashSecret(token), userId, expiresAt: now + SESSION_TTL_MS, sid: randomId() },
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
  if (!isOpaqueToken(SESSION_PREFIX, token)) return undefined;
  return findSessionByHash(db, hashSecret(token), now);
}

/** Ends a session (sign-out); ending an unknown one is a no-op. */
export async function endSession(db: Db, token: string): Promise<void> {
  await deleteSessionByHash(db, hashSecret(token));
}

export function pruneSessions(db: Db, now = Date.now()): Promise<void> {
  return deleteExpiredSessions(db, now);
}
