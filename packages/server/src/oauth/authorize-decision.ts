import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_FIELD, checkCsrf, csrfFailure } from '../console/csrf.ts';
import { sendErrorPage } from '../console/layout.ts';
import { currentSession } from '../console/session-cookie.ts';
import { signInPath } from '../console/sign-in.ts';
import { rememberConsent } from '../domain/consents.ts';
import { answerInvalid, checkAccess, grantCode, redirectError } from './authorize.ts';
import { authorizePath, readParams, validateAuthorizationRequest } from './authorize-request.ts';

/**
 * `POST /console/consent`: the user's answer on the consent page. The authorization request travels
 * in the form and is validated again from scratch, exactly as at the authorization endpoint, so that
 * nothing posted here can reach a redirect URI or a scope the endpoint would have refused.
 */
async function decide(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { [CSRF_FIELD]: token, decision, ...params } = readParams(request.body);
  if (!checkCsrf(request, token)) return csrfFailure(reply);
  const validation = await validateAuthorizationRequest(request.server.services, params);
  if (validation.kind !== 'ok') return answerInvalid(reply, validation);
  const authz = validation.request;
  const session = await currentSession(request);
  if (!session) return reply.redirect(signInPath(authorizePath(authz.params, ['login'])), 303);
  const check = await checkAccess(reply, authz, session.userId);
  if (!check.ok) return check.answer();
  if (decision === 'deny') return redirectError(reply, authz, 'access_denied', 'the user denied the request');
  if (decision !== 'allow') return sendErrorPage(reply, 400, 'Unexpected answer', 'Choose Allow or Deny.');
  await rememberConsent(request.server.services.db, session.userId, authz.client, authz.scopes, {
    actor: `user:${session.userId}`,
    ip: request.ip,
  });
  return grantCode(reply, authz, session.userId);
}

export function consentDecisionRoute(app: FastifyInstance): void {
  app.post('/console/consent', { schema: { hide: true } }, decide);
}
