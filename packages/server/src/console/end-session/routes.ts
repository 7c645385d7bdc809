import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readSessionCookie } from '../../http/session/cookies.ts';
import { CSRF_FIELD, checkCsrf } from '../../http/session/csrf.ts';
import { currentSession } from '../../http/session/session.ts';
import { readParams } from '../../oauth/authorize/validate-request.ts';
import { ENDPOINTS } from '../../oauth/discovery.ts';
import { confirmEndSession, endSession } from '../../oauth/end-session/end-session.ts';
import { csrfFailure } from '../error-pages.ts';
import { answerEndSession } from './answer.ts';
import { CONFIRM_PATH } from './views.ts';

async function endSessionRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const method = request.method === 'POST' ? 'POST' : 'GET';
  const params = readParams(method === 'GET' ? request.query : request.body);
  const session = await currentSession(request);
  const sessionCookie = readSessionCookie(request) !== undefined;
  const outcome = await endSession(request.server.services, params, { method, sessionCookie, session });
  return answerEndSession(request, reply, outcome, session);
}

async function confirmRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { [CSRF_FIELD]: token, ...params } = readParams(request.body);
  if (!checkCsrf(request, token)) return csrfFailure(reply);
  const session = await currentSession(request);
  const outcome = await confirmEndSession(request.server.services, params, session);
  return answerEndSession(request, reply, outcome, session);
}

/**
 * `GET|POST /connect/endsession` (RP-Initiated Logout 1.0 section 2: both methods), among the pages
 * because it answers pages and redirects; the protocol is in oauth/end-session/. It is a protocol
 * request any site may send, so it carries no CSRF token: a forged one can at most show the
 * confirmation page, or sign out the user an ID token of this very session names.
 */
export function endSessionRoute(pages: FastifyInstance): void {
  pages.route({
    method: ['GET', 'POST'],
    url: ENDPOINTS.endSession,
    schema: { hide: true },
    handler: endSessionRequest,
  });
}

/** `POST /console/end-session`: the "Sign out" of the confirmation page, CSRF-protected. */
export function endSessionConfirmRoute(pages: FastifyInstance): void {
  pages.post(CONFIRM_PATH, { schema: { hide: true } }, confirmRequest);
}
