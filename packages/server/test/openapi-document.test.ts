import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  documentPath,
  examplesOf,
  fetchDocument,
  type OpenApiDocument,
  SchemaValidator,
} from './helpers/openapi-document.ts';
import { collectRoutes, type RegisteredRoute, routeKey } from './helpers/registered-routes.ts';
import { ROUTE_TABLE } from './helpers/route-table.ts';
import { createTestApp, type TestApp } from './helpers/test-app.ts';

/**
 * Registered routes that are not part of the API and so not in its reference, each with the reason.
 * Everything else a client can call (REST, admin, `/connect/*`, discovery, JWKS) must be documented.
 */
const PAGES = new Set(ROUTE_TABLE.filter((route) => route.kind === 'page').map(routeKey));
const UNDOCUMENTED: { why: string; matches: (route: RegisteredRoute) => boolean }[] = [
  { why: 'HTML pages for people: sign-in, consent, the console', matches: (r) => PAGES.has(routeKey(r)) },
  {
    why: 'the API reference itself: its page, files and document',
    matches: (r) => r.path.startsWith('/swagger'),
  },
  {
    why: 'Prometheus metrics for operators, text format, can be turned off',
    matches: (r) => r.path === '/metrics',
  },
];

describe('the OpenAPI document at /swagger/v1/swagger.json', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let registered: RegisteredRoute[];
  let document: OpenApiDocument;
  beforeAll(async () => {
    const collected = await collectRoutes(() => createTestApp('sqlite'));
    t = collected.built;
    app = t.app;
    registered = collected.routes;
    document = await fetchDocument(app);
  });
  afterAll(() => t.close());

  const operation = (method: string, path: string) => {
    const found = document.paths[path]?.[method];
    if (!found) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
    return found;
  };

  it('is a valid OpenAPI 3.1 document (@apidevtools/swagger-parser)', async () => {
    expect(document.openapi).toBe('3.1.0');
    // The parser dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
    expect(document.info.title).toBe('Gatehouse API');
  });

  it('documents every registered route of the API: REST, admin, /connect/*, discovery and JWKS', () => {
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const api = registered.filter((route) => !UNDOCUMENTED.some((rule) => rule.matches(route)));
    const missing = api
      .map((route) => `${route.method} ${documentPath(route.path)}`)
      .filter((key) => !documented.has(key));
    expect(missing, 'registered routes missing from the document').toEqual([]);
    // And nothing documented that no route answers.
    const served = new Set(api.map((route) => `${route.method} ${documentPath(route.path)}`));
    expect([...documented].filter((key) => !served.has(key))).toEqual([]);
    for (const key of [
      'POST /connect/token',
      'POST /connect/revocation',
      'POST /connect/introspect',
      'GET /.well-known/openid-configuration',
      'GET /.well-known/oauth-authorization-server',
      'GET /.well-known/openid-configuration/jwks',
      'GET /v1/api-keys',
      'GET /me',
      'GET /v1/workspaces',
    ])
      expect(documented, key).toContain(key);
  });

  it('documents every answer of every operation, errors included, each with a description and a schema', () => {
    for (const [path, operations] of Object.entries(document.paths))
      for (const [method, op] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(op.responses);
        expect(
          statuses.some((s) => /^2/.test(s)),
          name,
        ).toBe(true);
        expect(statuses, name).toContain('500');
        for (const [status, response] of Object.entries(op.responses)) {
          expect(response.description, `${name} ${status}`).not.toBe('Default Response');
          // Only an empty answer (204, a revocation's 200) has no content.
          if (status !== '204' && !(path === '/connect/revocation' && status === '200'))
            expect(Object.values(response.content ?? {})[0]?.schema, `${name} ${status}`).toBeDefined();
        }
        const authenticated = (op.security ?? []).some((requirement) => Object.keys(requirement).length > 0);
        if (authenticated && !path.startsWith('/connect/'))
          for (const status of ['400', '401', '403', '404', '429'])
            expect(statuses, `${name} lacks ${status}`).toContain(status);
      }
  });

  it('answers REST errors as application/problem+json and /connect/* errors as RFC 6749 JSON (OAuthError)', () => {
    for (const [path, operations] of Object.entries(document.paths))
      for (const [method, op] of Object.entries(operations))
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          const name = `${method.toUpperCase()} ${path} ${status}`;
          if (path.startsWith('/connect/'))
            expect(response.content?.['application/json']?.schema?.$ref, name).toBe(
              '#/components/schemas/OAuthError',
            );
          else
            expect(response.content?.['application/problem+json']?.schema?.$ref, name).toBe(
              '#/components/schemas/Problem',
            );
        }
    expect(document.components.schemas.OAuthError?.required).toEqual(['error']);
    const oauthError = document.components.schemas.OAuthError as {
      properties: { error: { enum: string[] } };
    };
    const codes = oauthError.properties.error.enum;
    for (const code of [
      'invalid_request',
      'invalid_client',
      'invalid_grant',
      'unsupported_grant_type',
      'invalid_scope',
    ])
      expect(codes).toContain(code);
  });

  it('documents /connect/token, revocation and introspection with form bodies and client authentication', () => {
    for (const path of ['/connect/token', '/connect/revocation', '/connect/introspect']) {
      const op = operation('post', path);
      const form = op.requestBody?.content['application/x-www-form-urlencoded']?.schema;
      expect(form, path).toBeDefined();
      expect(Object.keys(op.requestBody?.content ?? {}), path).toEqual(['application/x-www-form-urlencoded']);
      expect(op.security, path).toEqual([{ clientSecretBasic: [] }, {}]);
      expect(Object.keys(op.responses).sort(), path).toEqual(['200', '400', '401', '429', '500', '503']);
      expect(op.responses['401']?.headers, path).toHaveProperty('WWW-Authenticate');
    }
    const token = operation('post', '/connect/token');
    const fields = token.requestBody?.content['application/x-www-form-urlencoded']?.schema as {
      properties: Record<string, { enum?: string[] }>;
      required: string[];
    };
    expect(fields.properties.grant_type?.enum).toEqual([
      'client_credentials',
      'authorization_code',
      'refresh_token',
    ]);
    expect(Object.keys(fields.properties)).toEqual(
      expect.arrayContaining([
        'scope',
        'code',
        'redirect_uri',
        'code_verifier',
        'refresh_token',
        'client_id',
        'client_secret',
      ]),
    );
    expect(fields.required).toEqual(['grant_type']);
    expect(token.responses['200']?.content?.['application/json']?.schema?.$ref).toBe(
      '#/components/schemas/TokenResponse',
    );
    expect(
      operation('get', '/.well-known/openid-configuration/jwks').responses['200']?.content,
    ).toHaveProperty('application/jwk-set+json');
  });

  it('offers apiKey (X-API-Key), oauth2 (client credentials, and authorization code on this server) and bearer JWT', async () => {
    const schemes = document.components.securitySchemes;
    expect(schemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    // The flows name the endpoints the server's own metadata announces.
    const metadata = (await app.inject({ url: '/.well-known/oauth-authorization-server' })).json();
    expect(schemes.oauth2).toEqual({
      type: 'oauth2',
      description: expect.stringContaining('PKCE'),
      flows: {
        clientCredentials: { tokenUrl: metadata.token_endpoint, scopes: { api1: expect.any(String) } },
        authorizationCode: {
          authorizationUrl: metadata.authorization_endpoint,
          tokenUrl: metadata.token_endpoint,
          refreshUrl: metadata.token_endpoint,
          scopes: { api1: expect.any(String), offline_access: expect.any(String) },
        },
      },
    });
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    // Every REST operation takes any of the three; a person's own consents only a user's token.
    expect(operation('get', '/v1/workspaces').security).toEqual([
      { apiKey: [] },
      { oauth2: ['api1'] },
      { bearer: [] },
    ]);
    expect(operation('get', '/v1/me/consents').security).toEqual([{ oauth2: ['api1'] }, { bearer: [] }]);
    expect(operation('get', '/status').security).toBeUndefined();
  });

  it("shows the Dastra documentation's examples for /me, the token response and /v1/workspaces", () => {
    expect(document.components.schemas.Principal?.examples).toContainEqual(
      expect.objectContaining({ authMethod: 'apiKey', scope: 'api1', user: null }),
    );
    expect(document.components.schemas.TokenResponse?.examples).toContainEqual({
      access_token: expect.any(String),
      expires_in: 3600,
      token_type: 'Bearer',
      scope: 'api1',
    });
    expect(
      operation('get', '/v1/workspaces').responses['200']?.content?.['application/json']?.example,
    ).toEqual({
      items: [
        {
          id: 1,
          tenantId: 1,
          label: 'My data company',
          logoUrl: null,
          state: 'Active',
          permissions: null,
          dataSubjectArchivedRetentionDays: null,
          nbEntities: 1,
        },
      ],
      total: 1,
    });
  });

  it('has examples that match their own schemas', () => {
    const validator = new SchemaValidator(document);
    const examples = examplesOf(document);
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const { where, schema, value } of examples)
      expect(validator.errors(schema, value), where).toEqual([]);
  });
});
