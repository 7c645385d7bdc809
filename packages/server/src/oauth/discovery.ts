import type { FastifyInstance } from 'fastify';
import { ID_TOKEN_ALGORITHMS } from '../domain/api-keys.ts';
import { USER_CLAIMS } from '../domain/openid-claims.ts';
import { API_SCOPE, SCOPES } from '../domain/scopes.ts';
import { INTROSPECTION_AUTH_METHODS, REVOCATION_AUTH_METHODS, TOKEN_AUTH_METHODS } from './client-auth.ts';
import { DOCUMENTED_ONLY } from './schemas.ts';
import { GRANTS } from './token/index.ts';

/** Paths of the endpoints, relative to the issuer. */
export const ENDPOINTS = {
  authorization: '/connect/authorize',
  token: '/connect/token',
  revocation: '/connect/revocation',
  introspection: '/connect/introspect',
  userinfo: '/connect/userinfo',
  endSession: '/connect/endsession',
  jwks: '/.well-known/openid-configuration/jwks',
} as const;

export interface MetadataInput {
  issuer: string;
  /** Grant types the token endpoint dispatches. */
  grantTypes: readonly string[];
  /** Whether `GET /connect/authorize` is served. */
  authorizationEndpoint: boolean;
  /** Whether OpenID Connect is served: the authorization endpoint, userinfo and end session. */
  openid?: boolean;
}

/** Claims an ID token or userinfo may carry (OpenID Connect Discovery 3 `claims_supported`). */
const CLAIMS_SUPPORTED = ['iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'sid', ...USER_CLAIMS];

/** OpenID Provider metadata (OpenID Connect Discovery 1.0 section 3), on top of RFC 8414's. */
function openIdMetadata(url: (path: string) => string) {
  return {
    userinfo_endpoint: url(ENDPOINTS.userinfo),
    end_session_endpoint: url(ENDPOINTS.endSession),
    subject_types_supported: ['public'],
    // RS256 first: OpenID Connect Core 15.1 makes it the algorithm every provider supports.
    id_token_signing_alg_values_supported: [...ID_TOKEN_ALGORITHMS],
    claims_supported: CLAIMS_SUPPORTED,
    prompt_values_supported: ['none', 'login', 'consent'],
    // Discovery 3 defaults request_uri_parameter_supported to true: say plainly that none of these is.
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}

/**
 * Authorization server metadata (RFC 8414 2), describing only what this server implements: every
 * field is derived from the grant map and the routes actually registered, so a feature appears here
 * exactly when it exists. The OpenID Connect fields appear with the userinfo and end-session routes.
 */
export function buildMetadata({ issuer, grantTypes, authorizationEndpoint, openid = false }: MetadataInput) {
  const url = (path: string) => `${issuer}${path}`;
  return {
    issuer,
    ...(authorizationEndpoint ? { authorization_endpoint: url(ENDPOINTS.authorization) } : {}),
    token_endpoint: url(ENDPOINTS.token),
    jwks_uri: url(ENDPOINTS.jwks),
    scopes_supported: scopesSupported(grantTypes, openid),
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
    // `none`: public clients authenticate by client_id alone, at the token and revocation endpoints only.
    token_endpoint_auth_methods_supported: [...TOKEN_AUTH_METHODS],
    revocation_endpoint: url(ENDPOINTS.revocation),
    revocation_endpoint_auth_methods_supported: [...REVOCATION_AUTH_METHODS],
    introspection_endpoint: url(ENDPOINTS.introspection),
    introspection_endpoint_auth_methods_supported: [...INTROSPECTION_AUTH_METHODS],
    ...(openid ? openIdMetadata(url) : {}),
  };
}

/** `offline_access` only means something where a refresh token can be issued, the OpenID scopes with OIDC. */
function scopesSupported(grantTypes: readonly string[], openid: boolean): string[] {
  return SCOPES.filter(
    (scope) =>
      scope === API_SCOPE || (scope === 'offline_access' ? grantTypes.includes('refresh_token') : openid),
  );
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
      openid:
        app.hasRoute({ method: 'GET', url: ENDPOINTS.userinfo }) &&
        app.hasRoute({ method: 'GET', url: ENDPOINTS.endSession }),
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
