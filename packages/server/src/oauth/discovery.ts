import type { FastifyInstance } from 'fastify';
import { API_SCOPE, SCOPES } from '../domain/scopes.ts';
import { CLIENT_AUTH_METHODS } from './client-auth.ts';
import { DOCUMENTED_ONLY } from './schemas.ts';
import { GRANTS } from './token/index.ts';

/** Paths of the endpoints, relative to the issuer. */
export const ENDPOINTS = {
  authorization: '/connect/authorize',
  token: '/connect/token',
  revocation: '/connect/revocation',
  introspection: '/connect/introspect',
  jwks: '/.well-known/openid-configuration/jwks',
} as const;

export interface MetadataInput {
  issuer: string;
  /** Grant types the token endpoint dispatches. */
  grantTypes: readonly string[];
  /** Whether `GET /connect/authorize` is served. */
  authorizationEndpoint: boolean;
}

/**
 * Authorization server metadata (RFC 8414 2), describing only what this server implements: every
 * field is derived from the grant map and the routes actually registered, so a feature appears here
 * exactly when it exists. We claim no OpenID Connect (no ID tokens), so no OIDC-only fields are sent.
 */
export function buildMetadata({ issuer, grantTypes, authorizationEndpoint }: MetadataInput) {
  const url = (path: string) => `${issuer}${path}`;
  const clientAuth = [...CLIENT_AUTH_METHODS];
  return {
    issuer,
    ...(authorizationEndpoint ? { authorization_endpoint: url(ENDPOINTS.authorization) } : {}),
    token_endpoint: url(ENDPOINTS.token),
    jwks_uri: url(ENDPOINTS.jwks),
    // offline_access only means something where a refresh token can be issued.
    scopes_supported: grantTypes.includes('refresh_token') ? [...SCOPES] : [API_SCOPE],
    // RFC 8414 makes this field REQUIRED; a server without an authorization endpoint supports none.
    response_types_supported: authorizationEndpoint ? ['code'] : [],
    ...(authorizationEndpoint
      ? {
          response_modes_supported: ['query'],
          // RFC 7636 4.2 and RFC 9700 2.1.1: S256 only, `plain` refused.
          code_challenge_methods_supported: ['S256'],
          // RFC 9207 3: the authorization response carries `iss`.
          authorization_response_iss_parameter_supported: true,
        }
      : {}),
    grant_types_supported: [...grantTypes],
    token_endpoint_auth_methods_supported: clientAuth,
    revocation_endpoint: url(ENDPOINTS.revocation),
    revocation_endpoint_auth_methods_supported: clientAuth,
    introspection_endpoint: url(ENDPOINTS.introspection),
    introspection_endpoint_auth_methods_supported: clientAuth,
  };
}

/**
 * `GET /.well-known/oauth-authorization-server` (RFC 8414 3) and `/.well-known/openid-configuration`
 * (the path clients of the original API use): the same document. It is built once, on the first
 * request, when every plugin has registered its routes.
 */
export function discoveryRoutes(app: FastifyInstance): void {
  let metadata: ReturnType<typeof buildMetadata> | undefined;
  const handler = async () => {
    metadata ??= buildMetadata({
      issuer: app.services.config.issuer,
      grantTypes: [...GRANTS.keys()],
      authorizationEndpoint: app.hasRoute({ method: 'GET', url: ENDPOINTS.authorization }),
    });
    return metadata;
  };
  const paths = {
    '/.well-known/oauth-authorization-server': 'Authorization server metadata (RFC 8414)',
    '/.well-known/openid-configuration': 'Authorization server metadata, at the path the original API used',
  };
  for (const [path, summary] of Object.entries(paths)) {
    const schema = {
      tags: ['OAuth2'],
      summary,
      description: 'Public, cacheable for 5 minutes.',
      response: { 200: { description: 'The metadata', $ref: 'AuthorizationServerMetadata#' } },
    };
    app.get(path, { schema, ...DOCUMENTED_ONLY }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return handler();
    });
  }
}
