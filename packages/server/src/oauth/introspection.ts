import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../errors/errors.ts';
import type { ApiKey } from '../model/types.ts';
import type { Services } from '../services.ts';
import { authenticateConfidentialClient, clientOf } from './client-auth.ts';
import { formParams } from './form-body.ts';
import { clientErrors, clientSecurity, DOCUMENTED_ONLY, tokenFormSchema } from './schemas.ts';

/** RFC 7662 2.2 response: `active` and, for an active token, what it grants. */
export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

export interface IntrospectionContext {
  token: string;
  client: ApiKey;
  services: Services;
}

/** Describes the token if it is of this kind, is active and belongs to `client`; null when not its kind. */
export type TokenIntrospector = (context: IntrospectionContext) => Promise<IntrospectionResponse | null>;

/**
 * JWT access tokens, judged exactly as the bearer check judges them (signature, claims, expiry,
 * denylist, the key's status). A token of another client is `{"active": false}` (RFC 7662 2.2
 * allows it, and it keeps one client from learning about another's tokens).
 */
const introspectAccessToken: TokenIntrospector = async ({ token, client, services }) => {
  const state = await services.bearer.inspect(token);
  if (!state.active) return null;
  const { claims } = state;
  if (claims.client_id !== client.publicKey) return { active: false };
  return {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    token_type: 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    jti: claims.jti,
    tenant_id: claims.tenant_id,
    workspace_id: claims.workspace_id,
    permissions: state.principal.permissions,
  };
};

/** Token kinds that can be introspected, tried in order; any other token is `{"active": false}`. */
const INTROSPECTORS: TokenIntrospector[] = [introspectAccessToken];

/** Describes the posted token; unknown or inactive is `{"active": false}`. */
async function introspect(request: FastifyRequest): Promise<IntrospectionResponse> {
  const token = formParams(request).get('token');
  if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
  const context = { token, client: clientOf(request), services: request.server.services };
  for (const introspector of INTROSPECTORS) {
    const response = await introspector(context);
    if (response) return response;
  }
  return { active: false };
}

const schema = {
  tags: ['OAuth2'],
  summary: "Describe one of this client's tokens",
  description:
    'RFC 7662. Confidential clients only: HTTP Basic or `client_id` and `client_secret` in the form. A public client (`client_id` alone) is `invalid_client`.',
  security: clientSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  body: tokenFormSchema,
  response: {
    200: { description: 'The token, active or not', $ref: 'IntrospectionResponse#' },
    ...clientErrors,
  },
};

/**
 * `POST /connect/introspect` (RFC 7662): confidential clients only (2.1: the caller must be
 * authorized, and a public client's client_id proves nothing); a public client is `invalid_client`.
 */
export function introspectionRoute(connect: FastifyInstance): void {
  connect.post(
    '/connect/introspect',
    {
      schema,
      ...DOCUMENTED_ONLY,
      config: { rateLimit: false },
      preHandler: [authenticateConfidentialClient],
    },
    introspect,
  );
}
