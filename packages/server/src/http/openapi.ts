import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { PROBLEMS, type ProblemCode, problemType } from '../errors/codes.ts';
import { OAUTH2_REDIRECT_PATH, swaggerUi } from './swagger-ui.ts';

/**
 * The authorization server's endpoints, as oauth/discovery.ts `ENDPOINTS` names them (http/ may not
 * import oauth/; test/openapi-document.test.ts checks that the document and the metadata agree).
 */
const AUTHORIZE_PATH = '/connect/authorize';
const TOKEN_PATH = '/connect/token';

const description = (issuer: string) => `Authenticate every call with one of:

- **apiKey**: the private key of an API key in the \`X-API-Key\` header.
- **oauth2**: an access token from \`POST /connect/token\`. *Client credentials*: the key's public key is the \`client_id\`, its private key the \`client_secret\`. *Authorization code* (a person signs in and consents; PKCE S256): first add \`${issuer}${OAUTH2_REDIRECT_PATH}\` to the key's redirect URLs.
- **bearer**: an access token you already have (\`Authorization: Bearer <JWT>\`).

REST errors are RFC 9457 \`application/problem+json\` with a stable \`code\` and a \`requestId\`; the OAuth2 endpoints answer RFC 6749 JSON errors. A resource outside the credential's organization or workspace is 404, never 403.`;

const TAGS = [
  { name: 'Identity', description: 'Who the credential is, and what a person allowed' },
  { name: 'Workspaces', description: "The organization's workspaces" },
  { name: 'Entities', description: "A workspace's legal entities" },
  { name: 'API keys', description: 'The admin API: keys of the organization (admin credentials only)' },
  { name: 'Members', description: 'The admin API: people of the organization (admin credentials only)' },
  { name: 'Audit', description: 'The admin API: what happened, newest first (admin credentials only)' },
  { name: 'OAuth2', description: 'The authorization server (RFC 6749, 7009, 7662, 8414, 7517)' },
  { name: 'Status', description: 'Without authentication' },
];

/** The security schemes; `issuer` is the public URL the OAuth2 flows are reached at. */
function securitySchemes(issuer: string) {
  const tokenUrl = `${issuer}${TOKEN_PATH}`;
  const api1 = 'The Gatehouse API (required)';
  return {
    apiKey: {
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
      description: 'The private key of an API key (`gsk_...`)',
    },
    oauth2: {
      type: 'oauth2',
      description: 'Client credentials, or authorization code with PKCE (S256) and refresh tokens',
      flows: {
        clientCredentials: { tokenUrl, scopes: { api1 } },
        authorizationCode: {
          authorizationUrl: `${issuer}${AUTHORIZE_PATH}`,
          tokenUrl,
          refreshUrl: tokenUrl,
          scopes: { api1, offline_access: 'A refresh token, for access while the person is away' },
        },
      },
    },
    bearer: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'An access token obtained elsewhere (RFC 9068 JWT)',
    },
    clientSecretBasic: {
      type: 'http',
      scheme: 'basic',
      description: 'OAuth2 client authentication: the public key as user name, the private key as password',
    },
  } as const;
}

type ResponseSchema = Record<string, unknown>;

/** The problem answered with `status`, described by its codes' titles, its first code as the example. */
function problem(
  status: number,
  extra: ResponseSchema = {},
  codes = (Object.keys(PROBLEMS) as ProblemCode[]).filter((code) => PROBLEMS[code].status === status),
): ResponseSchema {
  const [code = 'internal'] = codes;
  const { title } = PROBLEMS[code];
  const example = {
    type: problemType(code),
    title,
    status,
    detail: title,
    code,
    requestId: '3f2c9a54-8d1e-4b7a-9c0f-5e6d7a8b9c01',
  };
  return {
    description: codes.map((c) => PROBLEMS[c].title).join('; '),
    ...extra,
    content: { 'application/problem+json': { schema: { $ref: 'Problem#' }, example } },
  };
}

const RATE_LIMIT_HEADERS = {
  'Retry-After': { type: 'integer', description: 'Seconds until the budget is whole again' },
  'RateLimit-Limit': { type: 'integer' },
  'RateLimit-Remaining': { type: 'integer' },
  'RateLimit-Reset': { type: 'integer', description: 'Seconds' },
};

const RETRY_AFTER = { type: 'integer', description: 'Seconds to wait before retrying' };

const SUCCESS = { 200: 'OK', 201: 'Created', 204: 'No Content' } as Record<string, string>;

/**
 * What every route may answer besides its own responses, by what it has: the shared hooks raise these
 * (authentication, transport and input guards, rate limits, body parsing) and the error handler turns
 * any fault into a 500. `/connect/*` lists its RFC 6749 errors itself.
 */
function sharedAnswers(
  schema: FastifySchema & Record<string, unknown>,
  route: RouteOptions,
): Record<string, ResponseSchema> {
  const authenticated = Array.isArray(schema.security) && schema.security.length > 0;
  // Any route: a query (or path, or body) value the database could not store (input-guard.ts).
  const answers: Record<string, ResponseSchema> = { 400: problem(400), 500: problem(500) };
  if (route.config?.rateLimit !== false || authenticated)
    answers[429] = problem(429, { headers: RATE_LIMIT_HEADERS });
  if (authenticated) {
    answers[401] = problem(401, {
      headers: {
        'WWW-Authenticate': { type: 'string', description: 'Bearer realm="gatehouse" (RFC 6750 3)' },
      },
    });
    // A write with a `read` credential, a rule of the organization, a credential over plain HTTP.
    answers[403] = problem(403);
    answers[404] = problem(404);
    // A credential not in memory is looked up in the database, which may be away (error-handler.ts).
    answers[503] = problem(503, { headers: { 'Retry-After': RETRY_AFTER } });
  } else {
    // In production, a credential (even a stray one) or a body sent over plain HTTP (transport.ts).
    answers[403] = problem(403, {}, ['insecure_transport']);
  }
  if (schema.body) {
    answers[413] = problem(413);
    answers[415] = problem(415);
  }
  return answers;
}

/**
 * The OpenAPI view of a route's schema (the route itself keeps its own): the shared answers added,
 * problems under their real media type `application/problem+json`, a description on every answer.
 */
function documentRoute({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }) {
  if (!schema || schema.hide) return { schema, url };
  // Route schemas declare `response` as an object of status → schema (Fastify's type says unknown).
  const own = (schema.response ?? {}) as Record<string, ResponseSchema>;
  const response: Record<string, ResponseSchema> = {};
  const isOAuth = url.startsWith('/connect/');
  const shared: Record<string, ResponseSchema> = isOAuth
    ? {}
    : sharedAnswers(schema as FastifySchema & Record<string, unknown>, route);
  for (const [status, answer] of Object.entries<ResponseSchema>({ ...shared, ...own })) {
    if (answer.$ref === 'Problem#') response[status] = shared[status] ?? problem(Number(status));
    else if (SUCCESS[status] && !answer.description && !answer['x-response-description'])
      // A `$ref` loses its siblings but `description`; an inline schema keeps its own description.
      response[status] = {
        ...answer,
        [answer.$ref ? 'description' : 'x-response-description']: SUCCESS[status],
      };
    else response[status] = answer;
  }
  return { schema: { ...schema, response }, url };
}

/**
 * The OpenAPI 3.1 document, generated from the route schemas at `/swagger/v1/swagger.json` (the path
 * of the original API), and Swagger UI at `/swagger/index.html` (swagger-ui.ts).
 */
export async function openApi(app: FastifyInstance): Promise<void> {
  const { issuer } = app.services.config;
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Gatehouse API', version: '1.0.0', description: description(issuer) },
      servers: [{ url: issuer }],
      tags: TAGS,
      components: { securitySchemes: securitySchemes(issuer) },
    },
    transform: documentRoute,
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await swaggerUi(app);
}
