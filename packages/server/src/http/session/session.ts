import type { FastifyReply, FastifyRequest } from 'fastify';
import { endSession, findSession, startSession } from '../../domain/sessions.ts';
import type { SessionRecord } from '../../model/types.ts';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from './cookies.ts';

/** The live session of the browser behind a request, if it has one. */
export async function currentSession(request: FastifyRequest): Promise<SessionRecord | undefined> {
  const token = readSessionCookie(request);
  return token ? findSession(request.server.services.db, token) : undefined;
}

/**
 * Signs the browser in as `userId`: a new session on every sign-in (no fixation), and the one it
 * replaces ends now.
 */
export async function beginSession(
  request: FastifyRequest,
  reply: FastifyReply,
  userId: number,
): Promise<void> {
  const { db } = request.server.services;
  const previous = readSessionCookie(request);
  if (previous) await endSession(db, previous);
  const { token } = await startSession(db, userId);
  setSessionCookie(reply, token);
}

/** Signs the browser out: the session ends on the server, not just in the browser. */
export async function finishSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const token = readSessionCookie(request);
  if (token) await endSession(request.server.services.db, token);
  clearSessionCookie(reply);
}
