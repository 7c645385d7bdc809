import type { Kysely } from 'kysely';
import type { SessionRecord } from '../../model/types.ts';
import type { Database } from '../schema.ts';

export async function insertSession(
  db: Kysely<Database>,
  session: { tokenHash: string; userId: number; expiresAt: number; sid: string },
  now: number,
): Promise<SessionRecord> {
  const row = await db
    .insertInto('sessions')
    .values({
      token_hash: session.tokenHash,
      user_id: session.userId,
      authenticated_at: now,
      created_at: now,
      expires_at: session.expiresAt,
      sid: session.sid,
    })
    .returning(['id'])
    .executeTakeFirstOrThrow();
  return {
    id: row.id,
    userId: session.userId,
    authenticatedAt: now,
    expiresAt: session.expiresAt,
    sid: session.sid,
  };
}

/** A live session by the hash of its token; expired ones are not found. */
export async function findSessionByHash(
  db: Kysely<Database>,
  tokenHash: string,
  now: number,
): Promise<SessionRecord | undefined> {
  const row = await db
    .selectFrom('sessions')
    .select(['id', 'user_id', 'authenticated_at', 'expires_at', 'sid'])
    .where('token_hash', '=', tokenHash)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return (
    row && {
      id: row.id,
      userId: row.user_id,
      authenticatedAt: row.authenticated_at,
      expiresAt: row.expires_at,
      sid: row.sid,
    }
  );
}

export async function deleteSessionByHash(db: Kysely<Database>, tokenHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
}

/** Removes sessions past their end, so that the table does not grow without bound. */
export async function deleteExpiredSessions(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
}

/** Ends every session of a user (they were removed from an organization, or changed their password). */
export async function deleteSessionsOfUser(db: Kysely<Database>, userId: number): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}
