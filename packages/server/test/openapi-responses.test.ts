import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, codeFor, tokenRequest } from './helpers/authorization-flow.ts';
import { runCommonRouteTests } from './helpers/common-route-tests.ts';
import { basicAuth, postForm } from './helpers/http.ts';
import {
  documentPath,
  fetchDocument,
  mediaTypeOf,
  type OpenApiDocument,
  type Operation,
  SchemaValidator,
} from './helpers/openapi-document.ts';
import { ROUTE_TABLE } from './helpers/route-table.ts';
import { PASSWORD, type Seed, seed } from './helpers/seed.ts';
import { createTestApp, type TestApp } from './helpers/test-app.ts';
import { OAUTH_ENV } from './oauth/oauth-helpers.ts';

/** One answer as the client received it, with the route that gave it. */
interface Answer {
  method: string;
  route: string | undefined;
  status: number;
  contentType: string;
  /** The body as sent; undefined when it was not text (a file). */
  body: string | undefined;
}

/**
 * Creates an app whose every answer is recorded, through Fastify's `fastify.initialization`
 * diagnostics channel (as helpers/registered-routes.ts does): an `onSend` hook added at the root
 * before any plugin sees each answer of every scope after serialization, exactly as sent.
 */
async function recordedApp(env: Record<string, string>, answers: Answer[]): Promise<TestApp> {
  const onInitialization = (message: unknown) => {
    // The channel's message is `{ fastify }` (fastify.js publishes exactly that).
    const { fastify } = message as { fastify: FastifyInstance };
    fastify.addHook('onSend', async (request, reply, payload) => {
      answers.push({
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        contentType: mediaTypeOf(reply.getHeader('content-type')),
        body: typeof payload === 'string' ? payload : payload == null ? '' : undefined,
      });
      return payload;
    });
  };
  subscribe('fastify.initialization', onInitialization);
  try {
    return await createTestApp('sqlite', env);
  } finally {
    unsubscribe('fastify.initialization', onInitialization);
  }
}

/** What is wrong with an answer against the document; null when it is not an answer of the API. */
function mismatchOf(document: OpenApiDocument, validator: SchemaValidator, answer: Answer): string | null {
  if (!answer.route || answer.method === 'HEAD' || answer.body === undefined) return null;
  const operation = document.paths[documentPath(answer.route)]?.[answer.method.toLowerCase()];
  if (!operation) return null;
  const name = `${answer.method} ${answer.route} ${answer.status}`;
  const documented = operation.responses[String(answer.status)];
  if (!documented) return `${name}: status not documented (${answer.body.slice(0, 120)})`;
  if (!documented.content) return answer.body === '' ? '' : `${name}: documented empty, got a body`;
  const media = documented.content[answer.contentType];
  if (!media?.schema)
    return `${name}: ${answer.contentType} not documented (${Object.keys(documented.content)})`;
  const errors = validator.errors(media.schema, JSON.parse(answer.body));
  return errors.length ? `${name}: ${JSON.stringify(errors)} in ${answer.body.slice(0, 300)}` : '';
}

/**
 * A request for every documented operation: its path with real values of tenant A, and whether it
 * takes a form (the OAuth2 endpoints).
 */
function probes(document: OpenApiDocument, s: Seed) {
  const values: Record<string, string> = {
    id: String(s.a.mainWorkspaceId),
    entityId: '1',
    publicKey: s.orgKeyA.key.publicKey,
    userId: '1',
  };
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase() as 'GET' | 'POST' | 'PATCH' | 'DELETE',
      url: path.replace(/\{(\w+)\}/g, (_match, name: string) => values[name] ?? '1'),
      form: Boolean(operation.requestBody?.content['application/x-www-form-urlencoded']),
      operation,
    })),
  );
}

/** A valid JSON body for an operation that takes one: route-table.ts's, so that it passes validation. */
function payloadOf(method: string, url: string, operation: Operation): { payload?: Record<string, unknown> } {
  if (!operation.requestBody?.content['application/json']) return {};
  const pattern = Object.keys(ROUTES_WITH_PAYLOADS).find(
    (key) =>
      key.split(' ')[0] === method &&
      new RegExp(`^${key.split(' ')[1]?.replace(/\{\w+\}/g, '[^/]+')}$`).test(url),
  );
  const payload = pattern ? ROUTES_WITH_PAYLOADS[pattern] : undefined;
  return payload ? { payload } : {};
}

const ROUTES_WITH_PAYLOADS = Object.fromEntries(
  ROUTE_TABLE.flatMap((route) =>
    route.kind === 'rest-authenticated' && route.payload
      ? [[`${route.method} ${documentPath(route.path)}`, route.payload]]
      : [],
  ),
) as Record<string, Record<string, unknown>>;

const ENV = { ...OAUTH_ENV, GATEHOUSE_AUTH_FAILURE_LIMIT: '1000000' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const REDIRECT_URI = 'https://app.example/callback';
const JSON_TYPE = { 'content-type': 'application/json' };

/** The table's routes that the document covers (openapi-document.test.ts proves which those are). */
const DOCUMENTED_ROUTES = ROUTE_TABLE.filter(
  (route) => route.kind !== 'page' && !route.path.startsWith('/swagger') && route.path !== '/metrics',
);

describe('every answer the tests observe matches the schema the OpenAPI document gives for it', () => {
  const answers: Answer[] = [];
  let t: TestApp;
  let app: FastifyInstance;
  let s: Seed;
  beforeAll(async () => {
    t = await recordedApp(ENV, answers);
    app = t.app;
    s = await seed(app.services.db);
  });
  afterAll(() => t.close());

  describe('the common route checks of route-table.ts, on the documented routes', () => {
    runCommonRouteTests({ app: () => app, seed: () => s }, DOCUMENTED_ROUTES);
  });

  describe('what the common checks do not reach', () => {
    const asKey = (issued: { privateKey: string }) => ({ 'x-api-key': issued.privateKey });
    const client = () => ({ publicKey: s.orgKeyA.key.publicKey, privateKey: s.orgKeyA.privateKey });

    it('each grant, introspection of a live token, revocation, and /me with each kind of credential', async () => {
      const basic = { authorization: basicAuth(client().publicKey, client().privateKey) };
      const issued = await tokenRequest(app, client(), { grant_type: 'client_credentials', scope: 'api1' });
      expect(issued.statusCode).toBe(200);
      const posted = await postForm(app, '/connect/token', {
        grant_type: 'client_credentials',
        client_id: client().publicKey,
        client_secret: client().privateKey,
      });
      expect(posted.statusCode).toBe(200);
      const browser = new Browser(app);
      expect((await browser.signIn('owner@a.test', PASSWORD)).statusCode).toBe(303);
      const code = await codeFor(browser, client().publicKey, REDIRECT_URI);
      const exchanged = await tokenRequest(app, client(), {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
      });
      expect(exchanged.json()).toHaveProperty('refresh_token');
      const refreshed = await tokenRequest(app, client(), {
        grant_type: 'refresh_token',
        refresh_token: exchanged.json().refresh_token,
      });
      expect(refreshed.statusCode).toBe(200);
      for (const token of [issued.json().access_token, refreshed.json().access_token]) {
        const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
        expect(me.statusCode).toBe(200);
        const introspected = await postForm(app, '/connect/introspect', { token }, basic);
        expect(introspected.json().active).toBe(true);
      }
      expect((await app.inject({ url: '/me', headers: asKey(s.orgKeyA) })).statusCode).toBe(200);
      for (const [form, error] of [
        [{ grant_type: 'password' }, 'unsupported_grant_type'],
        [{ grant_type: 'client_credentials', scope: 'api1 profile' }, 'invalid_scope'],
      ] as const)
        expect((await tokenRequest(app, client(), form)).json().error).toBe(error);
      const revoked = await postForm(
        app,
        '/connect/revocation',
        { token: refreshed.json().refresh_token },
        basic,
      );
      expect(revoked.statusCode).toBe(200);
      // A replayed code revokes what it gave: last, so that the tokens above stay live until here.
      const replayed = await tokenRequest(app, client(), {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
      });
      expect(replayed.json().error).toBe('invalid_grant');
    });

    it('refused input: a bad query, path, body, media type and size', async () => {
      const ws = `/v1/workspaces/${s.a.mainWorkspaceId}/entities`;
      const refusals = [
        await app.inject({ url: '/v1/workspaces?size=9999', headers: asKey(s.orgKeyA) }),
        await app.inject({ url: '/v1/workspaces/not-a-number', headers: asKey(s.orgKeyA) }),
        await app.inject({
          method: 'POST',
          url: '/v1/api-keys',
          headers: { ...asKey(s.adminKeyA), ...JSON_TYPE },
          payload: { label: 'x', unknown: 1 },
        }),
        await app.inject({
          method: 'POST',
          url: ws,
          headers: { ...asKey(s.orgKeyA), 'content-type': 'text/plain' },
          payload: 'name',
        }),
        await app.inject({
          method: 'POST',
          url: ws,
          headers: { ...asKey(s.orgKeyA), ...JSON_TYPE },
          payload: JSON.stringify({ name: 'x'.repeat(70_000) }),
        }),
      ];
      expect(refusals.map((res) => res.statusCode)).toEqual([400, 400, 400, 415, 413]);
    });

    it('forbidden writes and conflicts', async () => {
      const admin = { ...asKey(s.adminKeyA), ...JSON_TYPE };
      const read = await app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: admin,
        payload: { label: 'read only', permissions: 'read' },
      });
      const entity = await app.inject({
        method: 'POST',
        url: `/v1/workspaces/${s.a.mainWorkspaceId}/entities`,
        headers: { 'x-api-key': read.json().privateKey, ...JSON_TYPE },
        payload: { name: 'refused' },
      });
      expect(entity.statusCode).toBe(403);
      const itself = await app.inject({
        method: 'DELETE',
        url: `/v1/api-keys/${s.adminKeyA.key.publicKey}`,
        headers: asKey(s.adminKeyA),
      });
      expect(itself.statusCode).toBe(403);
      await app.inject({
        method: 'DELETE',
        url: `/v1/api-keys/${read.json().publicKey}`,
        headers: asKey(s.adminKeyA),
      });
      const rotated = await app.inject({
        method: 'POST',
        url: `/v1/api-keys/${read.json().publicKey}/rotate`,
        headers: admin,
        payload: {},
      });
      expect(rotated.statusCode).toBe(409);
    });

    it('a value the database cannot store, on every documented operation: 400', async () => {
      const document = await fetchDocument(app);
      for (const { method, url, form } of probes(document, s)) {
        const res = await app.inject({
          method,
          url: `${url}?probe=%00`,
          headers: { ...asKey(s.adminKeyA), ...(form ? FORM_TYPE : {}) },
          ...(form ? { payload: 'grant_type=client_credentials&token=%00' } : {}),
        });
        expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(400);
      }
    });

    it('a body of another media type, or too large, on every operation that takes JSON: 415 and 413', async () => {
      const document = await fetchDocument(app);
      for (const { method, url, operation } of probes(document, s)) {
        if (!operation.requestBody?.content['application/json']) continue;
        const send = (contentType: string, payload: string) =>
          app.inject({
            method,
            url,
            headers: { ...asKey(s.adminKeyA), 'content-type': contentType },
            payload,
          });
        expect((await send('text/plain', 'label')).statusCode, `${method} ${url}`).toBe(415);
        const large = JSON.stringify({ label: 'x'.repeat(70_000) });
        expect((await send('application/json', large)).statusCode, `${method} ${url}`).toBe(413);
      }
    });

    it('in production, a credential sent over plain HTTP from another host, on every operation: 403 (400 on /connect/*)', async () => {
      const production = await recordedApp(
        {
          GATEHOUSE_MODE: 'production',
          GATEHOUSE_TRUST_PROXY: 'true',
          GATEHOUSE_ISSUER: 'https://gatehouse.example',
        },
        answers,
      );
      try {
        const productionSeed = await seed(production.app.services.db);
        const document = await fetchDocument(production.app);
        for (const { method, url, form, operation } of probes(document, productionSeed)) {
          const res = await production.app.inject({
            method,
            url,
            remoteAddress: '203.0.113.7',
            headers: { ...asKey(productionSeed.adminKeyA), ...(form ? FORM_TYPE : {}) },
            ...(form ? { payload: 'token=x' } : payloadOf(method, url, operation)),
          });
          // /connect/* answers RFC 6749's invalid_request (400), with or without a form (userinfo has none).
          expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(
            form || url.startsWith('/connect/') ? 400 : 403,
          );
        }
      } finally {
        await production.close();
      }
    });

    it('rate limits on every documented operation that has one, REST and OAuth2 alike: 429', async () => {
      const limited = await recordedApp(
        { GATEHOUSE_RATE_LIMIT: '1', GATEHOUSE_TOKEN_RATE_LIMIT: '1' },
        answers,
      );
      try {
        const limitedSeed = await seed(limited.app.services.db);
        const document = await fetchDocument(limited.app);
        const admin = asKey(limitedSeed.adminKeyA);
        // The first requests spend the admin key's budget and the address's budget on /connect/*.
        await limited.app.inject({ url: '/me', headers: admin });
        await limited.app.inject({ url: '/.well-known/openid-configuration' });
        await limited.app.inject({
          method: 'POST',
          url: '/connect/introspect',
          headers: FORM_TYPE,
          payload: 'token=x',
        });
        for (const { method, url, form, operation } of probes(document, limitedSeed)) {
          // A person's own consents take a user token, which this app has none of.
          const userOnly =
            !operation.security?.some((requirement) => 'apiKey' in requirement) && url.includes('/me/');
          if (!operation.responses['429'] || userOnly) continue;
          const res = form
            ? await limited.app.inject({ method, url, headers: FORM_TYPE, payload: 'token=x' })
            : await limited.app.inject({ method, url, headers: admin, ...payloadOf(method, url, operation) });
          expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(429);
        }
      } finally {
        await limited.close();
      }
    });
  });

  it('matches each answer to its documented status, media type and schema', async () => {
    const document = await fetchDocument(app);
    const validator = new SchemaValidator(document);
    const checked = answers.map((answer) => ({ answer, mismatch: mismatchOf(document, validator, answer) }));
    const compared = checked.filter((c) => c.mismatch !== null);
    expect(compared.length).toBeGreaterThan(150);
    expect(compared.map((c) => c.mismatch).filter(Boolean)).toEqual([]);

    // Every operation was seen succeeding; the answers never seen are listed by the report below.
    const seen = new Set(
      compared.map(({ answer }) => `${answer.method} ${documentPath(answer.route ?? '')} ${answer.status}`),
    );
    const all = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, op]) =>
        Object.keys(op.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`),
      ),
    );
    const unseenSuccess = all.filter((key) => / 2\d\d$/.test(key) && !seen.has(key));
    expect(unseenSuccess).toEqual([]);
    const unseen = all.filter((key) => !seen.has(key));
    // Never seen: 500 (no fault to inject), 503 (a saturated password or signing pool), some 409s.
    const byStatus = new Map<string, number>();
    for (const key of unseen) byStatus.set(key.slice(-3), (byStatus.get(key.slice(-3)) ?? 0) + 1);
    const summary = [...byStatus].map(([status, count]) => `${status} x${count}`).join(', ');
    process.stdout.write(
      `OpenAPI answers observed: ${all.length - unseen.length} of ${all.length} documented (operation and status), ${compared.length} answers validated; not observed: ${summary}\n`,
    );
  });
});
