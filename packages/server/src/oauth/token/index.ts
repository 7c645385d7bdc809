import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKey } from '../../domain/types.ts';
import { OAuthError } from '../../errors/errors.ts';
import { corsForKey } from '../../http/cors.ts';
import { limitClient } from '../../http/rate-limit.ts';
import type { Services } from '../../services.ts';
import { authenticateClient } from '../client-auth.ts';
import { type FormParams, formParams } from '../form-body.ts';
import { authorizationCode } from './authorization-code.ts';
import { clientCredentials } from './client-credentials.ts';
import { refreshToken } from './refresh-token.ts';

/** RFC 6749 5.1 successful token response, fields in the order DESIGN.md 1 shows. */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  token_type: 'Bearer';
  scope: string;
  refresh_token?: string;
}

/** What a grant handler gets: the authenticated client and the request's (deduplicated) parameters. */
export interface GrantContext {
  request: FastifyRequest;
  params: FormParams;
  client: ApiKey;
  services: Services;
}

/** One grant type: validates its own parameters, issues the tokens, or throws an {@link OAuthError}. */
export type GrantHandler = (context: GrantContext) => Promise<TokenResponse>;

/**
 * The token endpoint's grants, by `grant_type`. Discovery's `grant_types_supported` is derived from
 * this map, so registering a grant here is all it takes to implement and advertise it.
 */
export const GRANTS = new Map<string, GrantHandler>([
  ['client_credentials', clientCredentials],
  ['authorization_code', authorizationCode],
  ['refresh_token', refreshToken],
]);

/** RFC 6749 5.1: responses with tokens MUST NOT be cached. */
function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

/** The grant handler named by `grant_type`: missing is invalid_request, unknown unsupported_grant_type. */
function grantOf(params: FormParams): GrantHandler {
  const grantType = params.get('grant_type');
  if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
  const handler = GRANTS.get(grantType);
  if (!handler) throw new OAuthError('unsupported_grant_type', 'this grant_type is not supported');
  return handler;
}

/**
 * `POST /connect/token` (RFC 6749 3.2): form parameters (duplicates already refused by the parser),
 * grant type, client authentication (then CORS and the client's rate limit), then the grant's handler.
 */
export function tokenRoute(app: FastifyInstance): void {
  app.post('/connect/token', { schema: { hide: true } }, async (request, reply) => {
    noStore(reply);
    const params = formParams(request);
    const grant = grantOf(params);
    const client = await authenticateClient(request, params, app.services);
    // CORS and the per-client budget (src/http) need the client, known only from here on.
    corsForKey(reply, request.headers.origin, client);
    await limitClient(request, reply, client);
    return grant({ request, params, client, services: app.services });
  });
}
