import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../../errors/errors.ts';
import { corsForClient } from '../../http/cors.ts';
import { limitClient } from '../../http/rate-limit.ts';
import { traced } from '../../telemetry/tracing.ts';
import { authenticateClient, clientOf } from '../client-auth.ts';
import { type FormParams, formParams } from '../form-body.ts';
import {
  clientErrors,
  clientSecretPostFields,
  clientSecurity,
  DOCUMENTED_ONLY,
  TOKEN_EXAMPLES,
} from '../schemas.ts';
import { authorizationCode } from './authorization-code.ts';
import { clientCredentials } from './client-credentials.ts';
import type { GrantHandler, TokenResponse } from './grant.ts';
import { refreshToken } from './refresh-token.ts';

/**
 * The token endpoint's grants, by `grant_type`. Discovery's `grant_types_supported` is derived from
 * this map, so registering a grant here is all it takes to implement and advertise it.
 */
export const GRANTS = new Map<string, GrantHandler>([
  ['client_credentials', clientCredentials],
  ['authorization_code', authorizationCode],
  ['refresh_token', refreshToken],
]);

/** The grant handler named by `grant_type`: missing is invalid_request, unknown unsupported_grant_type. */
function grantOf(params: FormParams): GrantHandler {
  const grantType = params.get('grant_type');
  if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
  const handler = GRANTS.get(grantType);
  if (!handler) throw new OAuthError('unsupported_grant_type', 'this grant_type is not supported');
  return handler;
}

/** Pre-handler: a request for a grant we do not serve is refused before the client is authenticated. */
async function requireGrantType(request: FastifyRequest): Promise<void> {
  grantOf(formParams(request));
}

/** Runs the grant's handler for the authenticated client, in a trace span (telemetry/tracing.ts). */
function issueTokens(request: FastifyRequest): Promise<TokenResponse> {
  const params = formParams(request);
  const client = clientOf(request);
  const attributes = { 'oauth.grant_type': grantLabel(request), 'gatehouse.client': client.publicKey };
  return traced('gatehouse.token', attributes, () =>
    grantOf(params)({ request, params, client, services: request.server.services }),
  );
}

/** The grant a token request named, as metrics and traces label it: a value from a fixed set. */
function grantLabel(request: FastifyRequest): string {
  const grantType = formParams(request).get('grant_type');
  if (grantType === undefined) return 'unknown';
  return GRANTS.has(grantType) ? grantType : 'unsupported';
}

/**
 * `onSend` of the token endpoint: counts its answer for `/metrics` by grant and outcome, `issued` or
 * the RFC 6749 5.2 `error` of the answer as sent (whichever step refused it: limits, client, grant).
 */
async function countAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  request.server.countTokenAnswer(grantLabel(request), tokenOutcome(reply.statusCode, payload));
  return payload;
}

/** `issued`, or the `error` code of an RFC 6749 5.2 answer (a closed set, but checked: it becomes a label). */
function tokenOutcome(status: number, payload: unknown): string {
  if (status === 200) return 'issued';
  try {
    // Our own answer, parsed as unknown JSON: its `error` is checked before use.
    const error = (JSON.parse(String(payload)) as { error?: unknown }).error;
    if (typeof error === 'string' && /^[a-z_]{1,40}$/.test(error)) return error;
  } catch {
    // Not JSON: counted by status below.
  }
  return status >= 500 ? 'server_error' : 'invalid_request';
}

/** The token request's form fields; which ones a grant reads is in each description. */
const body = {
  type: 'object',
  properties: {
    grant_type: { type: 'string', enum: [...GRANTS.keys()] },
    scope: {
      type: 'string',
      description:
        'Space-separated: `api1` (required; the default for client credentials), plus `offline_access` for a refresh token (authorization code only)',
      examples: ['api1'],
    },
    code: {
      type: 'string',
      description: '`authorization_code`: the code from the redirect (60 s, single use)',
    },
    redirect_uri: {
      type: 'string',
      description: '`authorization_code`: the redirect URI of the authorization request, byte for byte',
    },
    code_verifier: {
      type: 'string',
      description: '`authorization_code`: the PKCE verifier (RFC 7636), if a challenge was sent',
    },
    refresh_token: {
      type: 'string',
      description: '`refresh_token`: the latest refresh token (each works once)',
    },
    ...clientSecretPostFields,
  },
  required: ['grant_type'],
} as const;

const schema = {
  tags: ['OAuth2'],
  summary: 'Issue tokens: client credentials, authorization code (PKCE) or refresh token',
  description:
    'RFC 6749 3.2. Authenticate a confidential client with HTTP Basic (`client_secret_basic`: base64 of `publicKey:privateKey`) or with `client_id` and `client_secret` in the form, not both; a public client sends its `client_id` alone (`none`: authorization code with PKCE, and refresh token). Answers carry `Cache-Control: no-store`.',
  security: clientSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  body,
  response: {
    200: {
      description: 'The tokens',
      content: { 'application/json': { schema: { $ref: 'TokenResponse#' }, examples: TOKEN_EXAMPLES } },
    },
    ...clientErrors,
  },
};

/**
 * `POST /connect/token` (RFC 6749 3.2), read top to bottom: form parameters (duplicates already
 * refused by the parser), grant type, client authentication, CORS and the client's rate limit (both
 * need the client), then the grant's handler.
 */
export function tokenRoute(connect: FastifyInstance): void {
  connect.post(
    '/connect/token',
    {
      schema,
      ...DOCUMENTED_ONLY,
      config: { rateLimit: false },
      preHandler: [requireGrantType, authenticateClient, corsForClient, limitClient],
      onSend: countAnswer,
    },
    issueTokens,
  );
}
