import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { userClaims } from '../domain/openid-claims.ts';
import { hasScope, OPENID_SCOPE } from '../domain/scopes.ts';
import type { OAuthErrorCode } from '../errors/codes.ts';
import { OAuthError, safeDescription } from '../errors/errors.ts';
import { corsForPrincipal } from '../http/cors.ts';
import { countRefusedKey } from '../http/key-usage.ts';
import { limitClient } from '../http/rate-limit.ts';
import { ENDPOINTS } from './discovery.ts';
import { formParams } from './form-body.ts';
import { DOCUMENTED_ONLY } from './schemas.ts';

const REALM = 'Bearer realm="gatehouse"';
/** RFC 6750 2.1: `Bearer` and a b64token, as the REST API reads it (http/authenticate.ts). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

type BearerError = Extract<OAuthErrorCode, 'invalid_request' | 'invalid_token' | 'insufficient_scope'>;

/**
 * An RFC 6750 3 error: the code and description in the `WWW-Authenticate` challenge (where OpenID
 * Connect Core 5.3.3 puts them) and, as on every /connect/* endpoint, in an RFC 6749 5.2 JSON body.
 * `safeDescription` keeps the text inside the quoted string.
 */
function bearerError(error: BearerError, description: string, scope?: string): OAuthError {
  const challenge =
    `${REALM}, error="${error}", error_description="${safeDescription(description)}"` +
    (scope ? `, scope="${scope}"` : '');
  return new OAuthError(error, description, { 'www-authenticate': challenge });
}

/**
 * Pre-handler: the access token travels in the Authorization header only (DESIGN.md 1: never in a
 * query string, where logs and Referer headers keep it; RFC 6750 5.3). RFC 6750 2.2 would allow a
 * form field, but one way is simpler to secure, so the others are refused outright with
 * `invalid_request` (RFC 6750 3.1), never read.
 */
async function refuseTokenOutsideHeader(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown> | undefined;
  if (query && Object.hasOwn(query, 'access_token'))
    throw bearerError(
      'invalid_request',
      'send the access token in the Authorization header, never in the URL',
    );
  if (formParams(request).has('access_token'))
    throw bearerError(
      'invalid_request',
      'send the access token in the Authorization header, not in the body',
    );
}

/** Spends a failed request's budgets (429 once spent), then refuses it. */
async function refuse(request: FastifyRequest, reply: FastifyReply, error: OAuthError): Promise<never> {
  const { budgets } = request.server;
  await budgets.chargeFailure(request, reply, budgets.failureGate(request));
  throw error;
}

/**
 * Pre-handler: the bearer token, verified exactly as the REST API verifies it (`services.bearer`:
 * signature and claims, expiry, the denylist of revoked tokens, the key's status, the user's
 * membership). No token is RFC 6750 3.1's bare challenge; a bad one `invalid_token`. A failure spends
 * the address's failed-authentication budget, as at the REST API. On success the principal (the key's
 * usage count, CORS) and the token's client (its rate limit, {@link limitClient}) are set.
 */
async function authenticateBearer(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { services, authTallies } = request.server;
  const authorization = request.headers.authorization;
  if (authorization === undefined) {
    authTallies.none.missing++;
    // RFC 6750 3.1: no error code in the challenge of a request that sent no credential; the body
    // still needs one of RFC 6749 5.2's shape, as every /connect/* error has.
    await refuse(
      request,
      reply,
      new OAuthError('invalid_token', 'send an Authorization: Bearer access token', {
        'www-authenticate': REALM,
      }),
    );
  }
  const token = BEARER.exec(authorization ?? '')?.[1];
  const state = token
    ? await services.bearer.inspect(token)
    : { active: false as const, reason: 'the Authorization header must be "Bearer <token>"' };
  if (state.active) {
    authTallies.bearer.valid++;
    request.principal = state.principal;
    request.client = state.key;
    return;
  }
  if (/^bearer /i.test(authorization ?? '')) authTallies.bearer.invalid++;
  if (state.keyRefusal) countRefusedKey(request, state.keyRefusal.keyId, state.keyRefusal.code);
  await refuse(request, reply, bearerError('invalid_token', state.reason));
}

/**
 * OpenID Connect Core 5.3.2: the claims the token's scope releases about its user. A token without
 * `openid` (an API token) or without a user (client credentials, which never carry `openid` anyway)
 * is a good token that does not grant this resource: 403 `insufficient_scope` (RFC 6750 3.1), so a
 * client asks for the scope rather than throwing away a working token, as it would for
 * `invalid_token`. A user deleted since is `invalid_token`: the token speaks for no one.
 */
async function answerUserinfo(request: FastifyRequest): Promise<Record<string, unknown>> {
  const principal = request.principal;
  // Set by authenticateBearer, which refuses every request it cannot set it for.
  if (!principal) throw bearerError('invalid_token', 'no access token was verified');
  if (!hasScope(principal.scope, OPENID_SCOPE))
    throw bearerError('insufficient_scope', 'the access token lacks the openid scope', OPENID_SCOPE);
  if (!principal.user)
    throw bearerError('insufficient_scope', 'the access token speaks for no user', OPENID_SCOPE);
  const claims = await userClaims(request.server.services.db, principal.user.id, principal.scope);
  if (!claims) throw bearerError('invalid_token', 'the user of this token no longer exists');
  return { ...claims };
}

/** An RFC 6749 5.2 error answer with its RFC 6750 challenge, as the document shows it. */
function errorAnswer(description: string, error: string, example: string, challenge = true) {
  return {
    description,
    ...(challenge
      ? { headers: { 'WWW-Authenticate': { type: 'string', description: 'The RFC 6750 3 challenge' } } }
      : {}),
    content: {
      'application/json': {
        schema: { $ref: 'OAuthError#' },
        example: { error, error_description: example },
      },
    },
  };
}

const USERINFO_EXAMPLE = { sub: '42', name: 'Ada Lovelace', email: 'ada@example.com', email_verified: false };

const schema = {
  tags: ['OAuth2'],
  summary: 'Claims about the user of an access token (OpenID Connect UserInfo)',
  description:
    "OpenID Connect Core 5.3: `sub` always, `name` with `profile`, `email` and `email_verified` with `email`. The access token must carry `openid` and travel in the `Authorization: Bearer` header (never the query or the body). Errors carry an RFC 6750 `WWW-Authenticate` challenge. CORS: the origins the token's API key allows.",
  security: [{ bearer: [] }],
  response: {
    200: {
      description: 'The claims, sent with `Cache-Control: no-store`',
      type: 'object',
      properties: {
        sub: { type: 'string', description: 'The user id, stable' },
        name: { type: 'string', description: 'With `profile`, when the user has a display name' },
        email: { type: 'string', description: 'With `email`' },
        email_verified: { type: 'boolean', description: 'With `email`: Gatehouse does not verify addresses' },
      },
      required: ['sub'],
      additionalProperties: false,
      examples: [USERINFO_EXAMPLE],
    },
    400: errorAnswer(
      'The token was sent in the query or the body, or the request is malformed: `invalid_request`',
      'invalid_request',
      'send the access token in the Authorization header, never in the URL',
    ),
    401: errorAnswer(
      'No token (a bare `Bearer realm="gatehouse"` challenge), or an invalid, expired or revoked one: `invalid_token`',
      'invalid_token',
      'the access token has expired',
    ),
    403: errorAnswer(
      'A valid token without `openid`, or without a user: `insufficient_scope`',
      'insufficient_scope',
      'the access token lacks the openid scope',
    ),
    429: errorAnswer(
      'Too many requests from this address or credential: `rate_limited`',
      'rate_limited',
      'too many requests; retry in 42 s',
      false,
    ),
    500: errorAnswer(
      'Unexpected error: `server_error`',
      'server_error',
      'an unexpected error occurred',
      false,
    ),
  },
};

/**
 * `GET` and `POST /connect/userinfo` (OpenID Connect Core 5.3.1: both), in the /connect/* scope (RFC
 * 6749 JSON errors, `no-store`, the per-address budget) and under the budget of the token's client,
 * `GATEHOUSE_RATE_LIMIT` a minute like any credential's at the REST API (DESIGN.md 3 rule 9).
 * Single-page apps call it from the browser: CORS answers for the origins the token's own key allows
 * (http/cors.ts), as the REST API does.
 */
export function userinfoRoute(connect: FastifyInstance): void {
  connect.route({
    method: ['GET', 'POST'],
    url: ENDPOINTS.userinfo,
    schema,
    ...DOCUMENTED_ONLY,
    // The scope's address budget runs first (an onRequest hook); the route opts out of the per-credential
    // budget and spends its client's budget explicitly, as at the token endpoint.
    config: { rateLimit: false },
    preHandler: [refuseTokenOutsideHeader, authenticateBearer, limitClient],
    onSend: corsForPrincipal,
    handler: answerUserinfo,
  });
}
