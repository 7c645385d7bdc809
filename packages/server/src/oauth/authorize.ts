import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { consentPage } from '../console/consent.ts';
import { csrfToken } from '../console/csrf.ts';
import { formTargetOf, sendErrorPage, sendPage } from '../console/layout.ts';
import { currentSession } from '../console/session-cookie.ts';
import { signInPath } from '../console/sign-in.ts';
import { issueAuthorizationCode } from '../domain/authorization-codes.ts';
import { hasConsent } from '../domain/consents.ts';
import { pruneGrantRecords } from '../domain/refresh-tokens.ts';
import { pruneSessions } from '../domain/sessions.ts';
import { type AccessThroughKey, accessThroughKey } from '../domain/users.ts';
import type { OAuthErrorCode } from '../errors/codes.ts';
import { listWorkspaces } from '../storage/repositories/workspaces.ts';
import {
  type AuthorizationRequest,
  type AuthorizationValidation,
  authorizePath,
  readParams,
  validateAuthorizationRequest,
} from './authorize-request.ts';
import { errorRedirectUrl, redirectUrl } from './redirect.ts';

/** Sends the browser back to the client with an error (the redirect URI is trusted by now). */
export function redirectError(
  reply: FastifyReply,
  target: { redirectUri: string; state: string | null },
  error: OAuthErrorCode,
  description: string,
): FastifyReply {
  const issuer = reply.server.services.config.issuer;
  return reply
    .header('cache-control', 'no-store')
    .redirect(errorRedirectUrl(target.redirectUri, issuer, error, description, target.state), 303);
}

/** Answers a failed validation: a page when the redirect URI is not trusted, a redirect when it is. */
export function answerInvalid(
  reply: FastifyReply,
  validation: Exclude<AuthorizationValidation, { kind: 'ok' }>,
): FastifyReply {
  if (validation.kind === 'page') {
    return sendErrorPage(reply, 400, 'This sign-in link is not valid', validation.message);
  }
  return redirectError(reply, validation, validation.error, validation.description);
}

/** Issues a code for a user who signed in and consented, and sends the browser back to the client. */
export async function grantCode(
  reply: FastifyReply,
  authz: AuthorizationRequest,
  userId: number,
): Promise<FastifyReply> {
  const { services } = reply.server;
  const code = await issueAuthorizationCode(services.db, {
    apiKeyId: authz.client.id,
    userId,
    redirectUri: authz.redirectUri,
    scope: authz.scopes.join(' '),
    codeChallenge: authz.codeChallenge,
  });
  const target = redirectUrl(authz.redirectUri, services.config.issuer, { code, state: authz.state });
  return reply.header('cache-control', 'no-store').redirect(target, 303);
}

/**
 * The user's access through the client, or the answer to send when there is none worth continuing
 * with. A result, not a reply: a Fastify reply is a thenable, and an async function returning one
 * resolves to what the reply resolves to (nothing), not to the reply.
 */
export type AccessCheck = { ok: true; access: AccessThroughKey } | { ok: false; answer: () => FastifyReply };

export async function checkAccess(
  reply: FastifyReply,
  authz: AuthorizationRequest,
  userId: number,
): Promise<AccessCheck> {
  const access = await accessThroughKey(reply.server.services.db, authz.client, userId);
  const back = (error: OAuthErrorCode, description: string): AccessCheck => ({
    ok: false,
    answer: () => redirectError(reply, authz, error, description),
  });
  if (!access) {
    if (authz.prompt.has('none'))
      return back('login_required', 'the signed-in user is not a member of this organization');
    return {
      ok: false,
      answer: () => reply.redirect(signInPath(authorizePath(authz.params, ['login']), 'not_member'), 303),
    };
  }
  if (access.scope.workspaceIds?.length === 0)
    return back('access_denied', 'the user has no access to the workspace of this application');
  return { ok: true, access };
}

async function showConsent(
  request: FastifyRequest,
  reply: FastifyReply,
  authz: AuthorizationRequest,
  access: AccessThroughKey,
): Promise<FastifyReply> {
  const workspaces =
    access.scope.workspaceIds === null
      ? null
      : (await listWorkspaces(request.server.services.db, access.scope, { page: 1, size: 50 })).items;
  const body = consentPage({
    client: authz.client,
    tenantLabel: access.tenantLabel,
    user: access.user,
    scopes: authz.scopes,
    workspaces,
    params: authz.params,
    csrfToken: csrfToken(request, reply),
  });
  return sendPage(reply, {
    title: `Authorize ${authz.client.label}`,
    body,
    formTargets: formTargetOf(authz.redirectUri),
  });
}

/**
 * RFC 6749 4.1.1 with the rules of DESIGN.md 1: validate, then make sure a member of the client's
 * organization is signed in (`prompt=login` asks again), then that they consented (remembered per user
 * and key; `prompt=consent` asks again), then redirect with a code. `prompt=none` never shows a page:
 * it answers `login_required` or `consent_required` (OpenID Connect Core 3.1.2.6).
 */
async function authorize(
  request: FastifyRequest,
  reply: FastifyReply,
  source: unknown,
): Promise<FastifyReply> {
  const validation = await validateAuthorizationRequest(request.server.services, readParams(source));
  if (validation.kind !== 'ok') return answerInvalid(reply, validation);
  const authz = validation.request;
  const session = await currentSession(request);
  if (!session || authz.prompt.has('login')) {
    if (authz.prompt.has('none'))
      return redirectError(reply, authz, 'login_required', 'the user is not signed in');
    // Back here after signing in, without `login` so that the fresh sign-in satisfies it.
    return reply.redirect(signInPath(authorizePath(authz.params, ['login'])), 303);
  }
  const check = await checkAccess(reply, authz, session.userId);
  if (!check.ok) return check.answer();
  const { access } = check;
  const consented =
    !authz.prompt.has('consent') &&
    (await hasConsent(request.server.services.db, session.userId, authz.client, authz.scopes));
  if (!consented) {
    if (authz.prompt.has('none'))
      return redirectError(reply, authz, 'consent_required', 'the user has not authorized this application');
    return showConsent(request, reply, authz, access);
  }
  return grantCode(reply, authz, session.userId);
}

const PRUNE_MS = 10 * 60_000;

/** `GET|POST /connect/authorize` (RFC 6749 3.1: both methods). It never answers CORS (see http/cors.ts). */
export function authorizeRoutes(app: FastifyInstance): void {
  app.route({
    method: ['GET', 'POST'],
    url: '/connect/authorize',
    schema: { hide: true },
    handler: (request, reply) =>
      authorize(request, reply, request.method === 'GET' ? request.query : request.body),
  });
  // Expired sessions, codes and refresh tokens are deleted in the background, never on a request's path.
  const { db, config } = app.services;
  const timer = setInterval(() => {
    void pruneSessions(db).catch(() => {});
    void pruneGrantRecords(db, config.refreshTokenTtl * 1000).catch(() => {});
  }, PRUNE_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
