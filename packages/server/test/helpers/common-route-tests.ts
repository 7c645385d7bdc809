import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePrivateKey, generatePublicKey } from '../../src/domain/key-format.ts';
import { Browser, type CookieJar, codeFor, csrfOf, tokenRequest } from './authorization-flow.ts';
import { basicAuth as basicHeader } from './http.ts';
import type {
  OAuthClientRoute,
  PageRoute,
  PublicRoute,
  RestAuthenticatedRoute,
  RestPublicRoute,
  RouteEntry,
  RouteFixture,
  TokensOfA,
} from './route-table.ts';
import { PASSWORD, type Seed } from './seed.ts';

export interface CommonRouteContext {
  app: () => FastifyInstance;
  /** Two tenants (seed.ts): the routes' resources are tenant A's, tenant B plays the intruder. */
  seed: () => Seed;
}

/** A name only tenant A's data contains: another tenant's answers must never include it. */
const MARKER_OF_A = 'entity-only-tenant-a-has';
const REDIRECT_URI = 'https://app.example/callback';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface Shared {
  app: FastifyInstance;
  fixture: RouteFixture;
  /** Signed in as A's owner, who consented to A's organization key. */
  browser: Browser;
}

function expectProblem(res: LightMyRequestResponse) {
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({
    type: expect.any(String),
    status: expect.any(Number),
    code: expect.any(String),
  });
  expect(body.requestId).toEqual(expect.any(String));
}

/** Strings only tenant A's data contains. */
function markersOfA(s: Seed): string[] {
  return [MARKER_OF_A, 'Tenant A', 'owner@a.test', s.orgKeyA.key.publicKey, s.workspaceKeyA.key.publicKey];
}

/** Every `tenantId` / `tenant_id` anywhere in a JSON value. */
function tenantIdsIn(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(tenantIdsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([name, inner]) =>
    name === 'tenantId' || name === 'tenant_id' ? [inner, ...tenantIdsIn(inner)] : tenantIdsIn(inner),
  );
}

function expectNothingOfA(res: LightMyRequestResponse, s: Seed) {
  for (const marker of markersOfA(s)) expect(res.body).not.toContain(marker);
  if (/json/.test(String(res.headers['content-type'])))
    expect(tenantIdsIn(res.json())).not.toContain(s.a.tenantId);
}

function restAuthenticatedChecks(route: RestAuthenticatedRoute, shared: () => Shared) {
  const name = `${route.method} ${route.path}`;
  const send = (headers: Record<string, string>) => {
    const { app, fixture } = shared();
    return app.inject({
      method: route.method,
      url: route.url(fixture),
      headers,
      ...(route.payload ? { payload: route.payload } : {}),
    });
  };

  it(`${name} answers 401 with a Bearer challenge without credentials`, async () => {
    const res = await send({});
    expect(res.statusCode, res.body).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
    expectProblem(res);
  });

  it(`${name} answers 401 invalid_token to an unknown key`, async () => {
    const res = await send({ 'x-api-key': generatePrivateKey() });
    expect(res.statusCode, res.body).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="gatehouse", error="invalid_token"/);
    expectProblem(res);
  });

  it(`${name} answers 401 invalid_token to a malformed bearer token`, async () => {
    const res = await send({ authorization: 'Bearer not.a-jwt.at-all' });
    expect(res.statusCode, res.body).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="gatehouse", error="invalid_token"/);
    expectProblem(res);
  });

  if (route.foreignKey === 'not-found') {
    it(`${name} answers 404, never 403, to another tenant's key, while the owner's key reaches the resource`, async () => {
      const s = shared().fixture.seed;
      const foreign = await send({ 'x-api-key': s.orgKeyB.privateKey });
      expect(foreign.statusCode, foreign.body).toBe(404);
      expectProblem(foreign);
      expect(foreign.json().code).toBe('not_found');
      expectNothingOfA(foreign, s);
      // The resource exists (and, for a DELETE, survived the foreign attempt): the 404 is no oracle.
      const owner = await send({ 'x-api-key': s.orgKeyA.privateKey });
      expect(owner.statusCode, owner.body).toBeGreaterThanOrEqual(200);
      expect(owner.statusCode, owner.body).toBeLessThan(300);
    });
  } else {
    it(`${name} answers another tenant's key with its own data, nothing of tenant A`, async () => {
      const s = shared().fixture.seed;
      const res = await send({ 'x-api-key': s.orgKeyB.privateKey });
      expect(res.statusCode, res.body).toBe(200);
      expectNothingOfA(res, s);
    });
  }
}

function restPublicChecks(route: RestPublicRoute, shared: () => Shared) {
  const name = `${route.method} ${route.path}`;
  const send = (headers: Record<string, string>) =>
    shared().app.inject({ method: route.method, url: route.url, headers });

  it(`${name} answers 200 JSON without credentials`, async () => {
    const res = await send({});
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it(`${name} ignores a stray unknown key: still 200`, async () => {
    const res = await send({ 'x-api-key': generatePrivateKey() });
    expect(res.statusCode, res.body).toBe(200);
  });
}

function publicChecks(route: PublicRoute, shared: () => Shared) {
  const name = `${route.method} ${route.path}`;
  const send = (headers: Record<string, string>) =>
    shared().app.inject({ method: route.method, url: route.url, headers });
  const expectAnswer = (res: LightMyRequestResponse) => {
    expect(res.statusCode, res.body).toBe(route.answer.status);
    expect(res.headers['www-authenticate']).toBeUndefined();
    if (route.answer.contentType) expect(res.headers['content-type']).toMatch(route.answer.contentType);
    if (route.answer.location) expect(res.headers.location).toBe(route.answer.location);
  };

  it(`${name} is public: answers ${route.answer.status} without credentials`, async () => {
    expectAnswer(await send({}));
  });

  it(`${name} ignores a stray unknown key: same answer`, async () => {
    expectAnswer(await send({ 'x-api-key': generatePrivateKey() }));
  });
}

/** A fresh grant of tenant A's key: tokens from one code, and a second code left unredeemed. */
async function tokensOfA({ app, fixture, browser }: Shared): Promise<TokensOfA> {
  const client = {
    publicKey: fixture.seed.orgKeyA.key.publicKey,
    privateKey: fixture.seed.orgKeyA.privateKey,
  };
  const code = await codeFor(browser, client.publicKey, REDIRECT_URI);
  const res = await tokenRequest(app, client, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
  });
  expect(res.statusCode, res.body).toBe(200);
  const { access_token: accessToken, refresh_token: refreshToken } = res.json();
  expect(refreshToken).toEqual(expect.any(String));
  return {
    accessToken,
    refreshToken,
    code: await codeFor(browser, client.publicKey),
    redirectUri: REDIRECT_URI,
  };
}

/** Tenant A's tokens still do what they did: the access token authenticates, the refresh token and code redeem. */
async function expectTokensOfAIntact({ app, fixture }: Shared, a: TokensOfA) {
  const client = {
    publicKey: fixture.seed.orgKeyA.key.publicKey,
    privateKey: fixture.seed.orgKeyA.privateKey,
  };
  const me = await app.inject({
    method: 'GET',
    url: '/me',
    headers: { authorization: `Bearer ${a.accessToken}` },
  });
  expect(me.statusCode, me.body).toBe(200);
  const refreshed = await tokenRequest(app, client, {
    grant_type: 'refresh_token',
    refresh_token: a.refreshToken,
  });
  expect(refreshed.statusCode, refreshed.body).toBe(200);
  const redeemed = await tokenRequest(app, client, {
    grant_type: 'authorization_code',
    code: a.code,
    redirect_uri: a.redirectUri,
  });
  expect(redeemed.statusCode, redeemed.body).toBe(200);
}

function oauthClientChecks(route: OAuthClientRoute, shared: () => Shared) {
  const name = `${route.method} ${route.path}`;
  const send = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    shared().app.inject({
      method: route.method,
      url: route.path,
      headers: { ...FORM, ...headers },
      payload: new URLSearchParams(form).toString(),
    });
  const expectInvalidClient = (res: LightMyRequestResponse) => {
    expect(res.statusCode, res.body).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json().error).toBe('invalid_client');
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm="gatehouse"/);
    expect(res.headers['cache-control']).toBe('no-store');
  };

  it(`${name} answers 401 invalid_client with a Basic challenge without client authentication (RFC 6749 5.2)`, async () => {
    expectInvalidClient(await send(route.form));
  });

  it(`${name} answers 401 invalid_client with a Basic challenge to an unknown client`, async () => {
    expectInvalidClient(
      await send(route.form, { authorization: basicHeader(generatePublicKey(), generatePrivateKey()) }),
    );
  });

  it(`${name} neither reveals nor touches tenant A's tokens for another tenant's client`, async () => {
    const context = shared();
    const a = await tokensOfA(context);
    const b = context.fixture.seed.orgKeyB;
    const expected = route.foreignAnswer;
    for (const form of route.aimedAt(a)) {
      const res = await send(form, { authorization: basicHeader(b.key.publicKey, b.privateKey) });
      expect(res.statusCode, `${JSON.stringify(form)}: ${res.body}`).toBe(expected.status);
      if (expected.empty) expect(res.body).toBe('');
      if (expected.json && expected.exact) expect(res.json()).toEqual(expected.json);
      else if (expected.json) expect(res.json()).toMatchObject(expected.json);
      expect(res.body).not.toMatch(/"active"\s*:\s*true|access_token|refresh_token/);
      for (const secret of [a.accessToken, a.refreshToken, a.code]) expect(res.body).not.toContain(secret);
      expectNothingOfA(res, context.fixture.seed);
    }
    await expectTokensOfAIntact(context, a);
  });
}

function expectPageAnswer(res: LightMyRequestResponse, expected: PageRoute['anonymous']) {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(expected.status);
  const type = String(res.headers['content-type'] ?? '');
  expect(type).not.toMatch(/json/);
  expect(res.body.trimStart().startsWith('{')).toBe(false);
  if (expected.answer === 'html') {
    expect(type).toMatch(/^text\/html/);
    expect(res.body).toMatch(/^<!doctype html>/i);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
  } else if (expected.answer === 'css') {
    expect(type).toMatch(/^text\/css/);
  } else {
    expect(String(res.headers.location)).toMatch(/^\/console\/sign-in(\?|$)/);
  }
}

function pageChecks(route: PageRoute, shared: () => Shared) {
  const name = `${route.method} ${route.path}`;
  const send = (jar: CookieJar | null, csrf: string | undefined, extra: Record<string, string> = {}) => {
    const { app, fixture } = shared();
    const form = route.form?.(fixture);
    const fields =
      form && csrf !== undefined && route.csrf === 'field' ? { ...form, csrf_token: csrf } : form;
    return app.inject({
      method: route.method,
      url: route.url(fixture),
      headers: {
        ...(fields ? FORM : {}),
        ...(csrf !== undefined && route.csrf === 'header' ? { 'x-csrf-token': csrf } : {}),
        ...(jar ? jar.header() : {}),
        ...extra,
      },
      ...(fields ? { payload: new URLSearchParams(fields).toString() } : {}),
    });
  };

  it(`${name} answers a page or a redirect to sign-in without a session, never JSON nor a 500, even when JSON is asked for`, async () => {
    expectPageAnswer(await send(null, undefined, { accept: 'application/json' }), route.anonymous);
  });

  if (route.csrf === 'none') return;

  /** The browser is still signed in and A's consent is still listed: the refused request changed nothing. */
  const expectNothingChanged = async (browser: Browser) => {
    const page = await browser.get('/console');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(shared().fixture.seed.orgKeyA.key.label);
  };

  it(`${name} refuses a signed-in browser's request without a CSRF token with a 403 page, changing nothing`, async () => {
    const { browser } = shared();
    const res = await send(browser.jar, undefined);
    expectPageAnswer(res, { status: 403, answer: 'html' });
    expect(res.headers['set-cookie']).toBeUndefined();
    await expectNothingChanged(browser);
  });

  it(`${name} refuses a signed-in browser's request with another browser's CSRF token with a 403 page, changing nothing`, async () => {
    const { app, browser } = shared();
    const other = new Browser(app);
    const token = csrfOf((await other.get('/console/sign-in')).body);
    const res = await send(browser.jar, token);
    expectPageAnswer(res, { status: 403, answer: 'html' });
    await expectNothingChanged(browser);
  });
}

/**
 * The checks every route of the table must pass, by kind (see route-table.ts). Call inside a
 * `describe` whose hooks build the app and seed it; this adds the data the checks aim at: an entity of
 * tenant A, and a browser signed in as A's owner who consented to A's organization key.
 */
export function runCommonRouteTests(context: CommonRouteContext, routes: readonly RouteEntry[]): void {
  let state: Shared | undefined;
  const shared = (): Shared => {
    if (!state) throw new Error('the common route checks ran before their setup');
    return state;
  };

  beforeAll(async () => {
    const app = context.app();
    const s = context.seed();
    const entity = await app.inject({
      method: 'POST',
      url: `/v1/workspaces/${s.a.mainWorkspaceId}/entities`,
      headers: { 'x-api-key': s.orgKeyA.privateKey },
      payload: { name: MARKER_OF_A },
    });
    expect(entity.statusCode, entity.body).toBe(201);
    const browser = new Browser(app);
    const signedIn = await browser.signIn('owner@a.test', PASSWORD);
    expect(signedIn.statusCode, signedIn.body).toBe(303);
    // Consents once, so that codes come without a consent page and the account page has a consent to protect.
    await codeFor(browser, s.orgKeyA.key.publicKey, REDIRECT_URI);
    state = { app, fixture: { seed: s, entityOfA: entity.json().id }, browser };
  });

  for (const route of routes) {
    describe(`${route.method} ${route.path} (${route.kind})`, () => {
      switch (route.kind) {
        case 'rest-authenticated':
          return restAuthenticatedChecks(route, shared);
        case 'rest-public':
          return restPublicChecks(route, shared);
        case 'oauth-client':
          return oauthClientChecks(route, shared);
        case 'page':
          return pageChecks(route, shared);
        case 'public':
          return publicChecks(route, shared);
      }
    });
  }
}
