import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import { OAUTH_ERRORS, type OAuthErrorCode } from '../errors/codes.ts';

/**
 * JSON schemas of the authorization server's JSON endpoints. They produce the OpenAPI document only:
 * see {@link DOCUMENTED_ONLY} for why they neither validate requests nor shape answers.
 */

/** The codes an endpoint answering JSON can send; the others only travel in authorization redirects. */
const REDIRECT_ONLY: readonly OAuthErrorCode[] = [
  'access_denied',
  'unsupported_response_type',
  'login_required',
  'consent_required',
  'interaction_required',
];

export const oauthErrorSchema = {
  $id: 'OAuthError',
  type: 'object',
  description:
    'RFC 6749 5.2 error response. `invalid_client` is a 401 with `WWW-Authenticate: Basic`; `rate_limited` a 429 with `Retry-After`.',
  properties: {
    error: {
      type: 'string',
      enum: Object.keys(OAUTH_ERRORS).filter((code) => !REDIRECT_ONLY.includes(code as OAuthErrorCode)),
    },
    error_description: {
      type: 'string',
      description: 'Human-readable, printable ASCII without `"` or `\\` (RFC 6749 5.2)',
    },
  },
  required: ['error'],
  examples: [{ error: 'invalid_client', error_description: 'client authentication failed' }],
} as const;

/** An access token as the Dastra documentation shows it (a JWT, shortened here). */
const ACCESS_TOKEN_EXAMPLE =
  'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJhdWQiOiJhcGkxIn0.c2lnbmF0dXJl';

/** The client credentials answer of the Dastra documentation. */
const CLIENT_CREDENTIALS_TOKENS = {
  access_token: ACCESS_TOKEN_EXAMPLE,
  expires_in: 3600,
  token_type: 'Bearer',
  scope: 'api1',
};

export const tokenResponseSchema = {
  $id: 'TokenResponse',
  type: 'object',
  description: 'RFC 6749 5.1 successful token response, sent with `Cache-Control: no-store`',
  properties: {
    access_token: { type: 'string', description: 'A JWT (RFC 9068), for `Authorization: Bearer`' },
    expires_in: { type: 'integer', description: 'Lifetime of the access token in seconds' },
    token_type: { type: 'string', enum: ['Bearer'] },
    scope: { type: 'string', description: 'The granted scopes, space-separated' },
    refresh_token: {
      type: 'string',
      description: 'Only with `offline_access` (authorization code and refresh grants); single use',
    },
    id_token: {
      type: 'string',
      description:
        "Only from an authorization code whose scope has `openid` (OpenID Connect Core 3.1.3.3): a JWT signed with the key's `id_token_signed_response_alg`; refreshes carry none",
    },
  },
  required: ['access_token', 'expires_in', 'token_type', 'scope'],
  examples: [CLIENT_CREDENTIALS_TOKENS],
} as const;

/** The token endpoint's answers, as the API reference shows them. */
export const TOKEN_EXAMPLES = {
  clientCredentials: { summary: 'Client credentials', value: CLIENT_CREDENTIALS_TOKENS },
  authorizationCode: {
    summary: 'Authorization code with offline_access, or a refresh',
    value: {
      access_token: ACCESS_TOKEN_EXAMPLE,
      expires_in: 3600,
      token_type: 'Bearer',
      refresh_token: 'grt_5pQ9mV2xK7rT4wN8bZ3cJ6hL1sD0fG9aY2uE5iO8kR3',
      scope: 'api1 offline_access',
    },
  },
};

export const introspectionResponseSchema = {
  $id: 'IntrospectionResponse',
  type: 'object',
  description:
    'RFC 7662 2.2: `{"active": false}` for a token that is unknown, expired, revoked or another client\'s; the claims of an active access token otherwise',
  properties: {
    active: { type: 'boolean' },
    scope: { type: 'string' },
    client_id: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer'] },
    exp: { type: 'integer' },
    iat: { type: 'integer' },
    sub: { type: 'string', description: 'The user id, or the public key for client credentials' },
    aud: { type: 'string' },
    iss: { type: 'string' },
    jti: { type: 'string' },
    tenant_id: { type: 'integer' },
    workspace_id: { type: ['integer', 'null'] },
    permissions: { type: 'string', enum: ['read', 'write', 'admin'] },
  },
  required: ['active'],
  examples: [{ active: false }],
} as const;

/**
 * The form fields of client authentication in the body, shared by the client-authenticated endpoints:
 * RFC 6749 2.3.1 `client_secret_post`, and `none` (a public client's client_id alone, RFC 6749 3.2.1).
 */
export const clientSecretPostFields = {
  client_id: {
    type: 'string',
    description:
      'The public key: with `client_secret` (`client_secret_post`), or alone for a public client (`none`); else use HTTP Basic',
  },
  client_secret: {
    type: 'string',
    description:
      'The private key of a confidential client (`client_secret_post`; never together with HTTP Basic). A public client has none',
  },
} as const;

/** A token posted to revocation or introspection. */
export const tokenFormSchema = {
  type: 'object',
  properties: {
    token: { type: 'string', description: 'An access token or a refresh token' },
    token_type_hint: { type: 'string', enum: ['access_token', 'refresh_token'] },
    ...clientSecretPostFields,
  },
  required: ['token'],
} as const;

/**
 * Client authentication: HTTP Basic (`client_secret_basic`), or the fields in the form
 * (`client_secret_post`, or a public client's `client_id` alone), hence the empty requirement.
 */
export const clientSecurity = [{ clientSecretBasic: [] }, {}];

/** An RFC 6749 error answer: `description`, an example, and the headers it carries. */
function oauthError(description: string, example: Record<string, string>, headers?: Record<string, unknown>) {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: { $ref: 'OAuthError#' }, example } },
  };
}

/** The answers every client-authenticated endpoint may give besides its own. */
export const clientErrors = {
  400: oauthError('Invalid request (RFC 6749 5.2)', {
    error: 'invalid_request',
    error_description: 'grant_type is required',
  }),
  401: oauthError(
    'Client authentication failed: `invalid_client` (also a method that does not fit the client type: a secret for a public client, `client_id` alone for a confidential one)',
    { error: 'invalid_client', error_description: 'client authentication failed' },
    { 'WWW-Authenticate': { type: 'string', description: 'Basic realm="gatehouse", charset="UTF-8"' } },
  ),
  429: oauthError(
    'Too many requests from this address or client: `rate_limited`',
    { error: 'rate_limited', error_description: 'too many requests for this client; retry in 42 s' },
    { 'Retry-After': { type: 'integer', description: 'Seconds to wait' } },
  ),
  500: oauthError('Unexpected error: `server_error`', { error: 'server_error' }),
  503: oauthError('Overloaded: `temporarily_unavailable`', {
    error: 'temporarily_unavailable',
    error_description: 'Busy, retry shortly',
  }),
};

export const jsonWebKeySetSchema = {
  $id: 'JsonWebKeySet',
  type: 'object',
  description:
    'RFC 7517 5: the public keys that verify access tokens (ES256) and ID tokens (RS256 or ES256), the active one of each algorithm and retired ones',
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kty: { type: 'string', enum: ['EC', 'RSA'] },
          crv: { type: 'string', description: 'EC only' },
          x: { type: 'string', description: 'EC only' },
          y: { type: 'string', description: 'EC only' },
          n: { type: 'string', description: 'RSA only: the modulus' },
          e: { type: 'string', description: 'RSA only: the public exponent' },
          kid: { type: 'string', description: 'RFC 7638 thumbprint, the `kid` of the tokens it signed' },
          alg: { type: 'string', enum: ['ES256', 'RS256'] },
          use: { type: 'string', enum: ['sig'] },
        },
        required: ['kty', 'kid', 'alg', 'use'],
      },
    },
  },
  required: ['keys'],
} as const;

const url = { type: 'string', format: 'uri' } as const;
const list = { type: 'array', items: { type: 'string' } } as const;

export const metadataSchema = {
  $id: 'AuthorizationServerMetadata',
  type: 'object',
  description: 'RFC 8414 2: only what this server implements',
  properties: {
    issuer: url,
    authorization_endpoint: url,
    token_endpoint: url,
    jwks_uri: url,
    scopes_supported: list,
    response_types_supported: list,
    response_modes_supported: list,
    code_challenge_methods_supported: list,
    authorization_response_iss_parameter_supported: { type: 'boolean' },
    grant_types_supported: list,
    token_endpoint_auth_methods_supported: list,
    revocation_endpoint: url,
    revocation_endpoint_auth_methods_supported: list,
    introspection_endpoint: url,
    introspection_endpoint_auth_methods_supported: list,
  },
  required: [
    'issuer',
    'token_endpoint',
    'jwks_uri',
    'scopes_supported',
    'response_types_supported',
    'grant_types_supported',
  ],
} as const;

export const OAUTH_SCHEMAS = [
  oauthErrorSchema,
  tokenResponseSchema,
  introspectionResponseSchema,
  jsonWebKeySetSchema,
  metadataSchema,
];

/** Accepts anything: see {@link DOCUMENTED_ONLY}. */
const noValidation: FastifySchemaCompiler<unknown> = () => () => true;
/** Fastify's own default, as when a route has no response schema: see {@link DOCUMENTED_ONLY}. */
const plainJson: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);

/**
 * Route options of an endpoint whose schema documents it and does nothing else. Its request is
 * checked by the endpoint itself, with RFC 6749's error codes (`invalid_request`,
 * `unsupported_grant_type`...) and in the order of its pre-handlers, from a form the parser has
 * already turned into a Map (duplicates refused), which a JSON-schema validator cannot see. Its answer
 * is exactly what the handler returns: a schema-driven serializer would reorder or drop members of
 * the token response, the metadata or a JWK, which clients and tests rely on.
 */
export const DOCUMENTED_ONLY = { validatorCompiler: noValidation, serializerCompiler: plainJson } as const;
