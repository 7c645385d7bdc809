import type { FastifyRequest } from 'fastify';
import { findUser } from '../../domain/users.ts';
import { currentSession } from '../../http/session/session.ts';
import type { User } from '../../model/types.ts';

/** The user of the browser's live session, if any. */
export async function signedInUser(request: FastifyRequest): Promise<User | undefined> {
  const session = await currentSession(request);
  return session && findUser(request.server.services.db, session.userId);
}
