import type { FastifyInstance } from 'fastify';
import type { ApiKey } from '../domain/types.ts';
import { OAuthError } from '../errors/errors.ts';
import type { Services } from '../services.ts';
import { authenticateClient } from './client-auth.ts';
import { formParams } from './form-body.ts';
import { oauthOf } from './runtime.ts';

/** RFC 7662 2.2 response: `active` and, for an active token, what it grants. */
export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

export interface IntrospectionContext {
  token: string;
  hint: string | undefined;
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
export const introspectAccessToken: TokenIntrospector = async ({ token, client, services }) => {
  const state = await oauthOf(services).verifier.inspect(token);
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
  };
};

/** Token kinds that can be introspected, tried in order (the refresh-token introspector joins this list). */
export const INTROSPECTORS: TokenIntrospector[] = [introspectAccessToken];

/** `POST /connect/introspect` (RFC 7662): client-authenticated; unknown or inactive is `{"active": false}`. */
export function introspectionRoute(app: FastifyInstance): void {
  app.post('/connect/introspect', { schema: { hide: true } }, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const params = formParams(request);
    const client = await authenticateClient(request, params, app.services);
    const token = params.get('token');
    if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
    const context = { token, hint: params.get('token_type_hint'), client, services: app.services };
    for (const introspect of INTROSPECTORS) {
      const response = await introspect(context);
      if (response) return response;
    }
    return { active: false };
  });
}
