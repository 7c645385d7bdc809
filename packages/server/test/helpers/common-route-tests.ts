import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePrivateKey, generatePublicKey } from '../../src/domain/key-format.ts';
import { Browser, type CookieJar, codeFor, csrfOf, tokenRequest } from './authorization-flow.ts';
import { basicAuth as basicHeader } from './http.ts';
import type {
  OAuthBearerRoute,
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
  /** Access tokens of each tenant's owner, from the authorization code flow (`credential: 'user'`). */
  ownerTokens: { a: string; b: string };
  /** Tenant B's owner's access token with `openid email` (for the `oauth-bearer` routes). */
  openidTokenOfB: string;
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

/** Strings only tenant A's data contains: its name, its people's emails, its keys. */
function markersOfA(f: RouteFixture): string[] {
  const s = f.seed;
  const keys = [s.orgKeyA, s.workspaceKeyA, s.adminKeyA].map((issued) => issued.key.publicKey);
  return [MARKER_OF_A, 'Tenant A', '@a.test', ...keys, f.spareKeyOfA, f.revocableKeyOfA, f.consentedKeyOfA];
}

/** Every `tenantId` / `tenant_id` anywhere in a JSON value. */
function tenantIdsIn(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(tenantIdsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([name, inner]) =>
    name === 'tenantId' || name === 'tenant_id' ? [inner, ...tenantIdsIn(inner)] : tenantIdsIn(inner),
  );
}

/**
 * No marker of A in an answer to another tenant, but for what the request itself named (`sent`, its
 * URL): a 404 may echo the public key it was asked about, as it would for a key that does not exist.
 */
function expectNothingOfA(res: LightMyRequestResponse, f: RouteFixture, sent = '') {
  for (const marker of markersOfA(f).filter((m) => !sent.includes(m))) expect(res.body).not.toContain(marker);
  if (/json/.test(String(res.headers['content-type'])))
    expect(tenantIdsIn(res.json())).not.toContain(f.seed.a.tenantId);
}

type Headers = Record<string, string>;

/** Tenant A's and tenant B's credentials of the route's `credential` kind (route-table.ts). */
function credentialsOf(
  route: RestAuthenticatedRoute,
  { fixture: { seed: s }, ownerTokens }: Shared,
): { a: Headers; b: Headers } {
  const key = (issued: { privateKey: string }) => ({ 'x-api-key': issued.privateKey });
  switch (route.credential ?? 'data') {
    case 'data':
      return { a: key(s.orgKeyA), b: key(s.orgKeyB) };
    case 'admin':
      return { a: key(s.adminKeyA), b: key(s.adminKeyB) };
    case 'user':
      return {
        a: { authorization: `Bearer ${ownerTokens.a}` },
        b: { authorization: `Bearer ${ownerTokens.b}` },
      };
  }
}

/** How the checks' names call each `credential` kind. */
const CREDENTIAL_NAMES = { data: 'key', admin: 'admin key', user: 'owner token' } as const;

function expectNotFound(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body).toBe(404);
  expectProblem(res);
  expect(res.json().code).toBe('not_found');
}

function restAuthenticatedChecks(route: RestAuthenticatedRoute, shared: () => Shared) {
  const name = `${route.method} ${route.path}`;
  const credential = CREDENTIAL_NAMES[route.credential ?? 'data'];
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

  if (route.credential === 'admin') {
    it(`${name} answers 404, never 403, to a write key of the same organization: the admin API needs an admin credential`, async () => {
      expectNotFound(await send({ 'x-api-key': shared().fixture.seed.orgKeyA.privateKey }));
    });
  }

  if (route.credential === 'user') {
    it(`${name} answers 404 to the organization's API keys, even an admin key: only a person has this resource`, async () => {
      const s = shared().fixture.seed;
      for (const issued of [s.orgKeyA, s.adminKeyA])
        expectNotFound(await send({ 'x-api-key': issued.privateKey }));
    });
  }

  if (route.foreignKey === 'not-found') {
    it(`${name} answers 404, never 403, to another tenant's ${credential}, while tenant A's own ${credential} reaches the resource`, async () => {
      const context = shared();
      const credentials = credentialsOf(route, context);
      const foreign = await send(credentials.b);
      expectNotFound(foreign);
      expectNothingOfA(foreign, context.fixture, route.url(context.fixture));
      // The resource exists (and, for a DELETE, survived the foreign attempt): the 404 is no oracle.
      const owner = await send(credentials.a);
      expect(owner.statusCode, owner.body).toBeGreaterThanOrEqual(200);
      expect(owner.statusCode, owner.body).toBeLessThan(300);
    });
  } else {
    it(`${name} answers another tenant's ${credential} with its own data, nothing of tenant A`, async () => {
      const context = shared();
      const res = await send(credentialsOf(route, context).b);
      // 200, or 201 for a creation (in the caller's own organization).
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(200);
      expect(res.statusCode, res.body).toBeLessThan(300);
      expectNothingOfA(res, context.fixture);
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
      expectNothingOfA(res, context.fixture);
    }
    await expectTokensOfAIntact(context, a);
  });
}

/** RFC 6749 5.2 JSON with the RFC 6750 challenge `challenge` matches, never cached. */
function expectBearerRefusal(res: LightMyRequestResponse, status: number, challenge: RegExp) {
  expect(res.statusCode, res.body).toBe(status);
  expect(String(res.headers['www-authenticate'])).toMatch(challenge);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json().error).toEqual(expect.any(String));
  expect(res.headers['cache-control']).toBe('no-store');
}

function oauthBearerChecks(route: OAuthBearerRoute, shared: () => Shared) {
  const name = `${route.method} ${route.path}`;
  const send = (headers: Record<string, string>) =>
    shared().app.inject({ method: route.method, url: route.url, headers });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it(`${name} answers 401 with the bare Bearer challenge without a token, and an API key is none (RFC 6750 3.1)`, async () => {
    const { seed: s } = shared().fixture;
    for (const headers of [{}, { 'x-api-key': s.orgKeyA.privateKey }]) {
      const res = await send(headers);
      expectBearerRefusal(res, 401, /^Bearer realm="gatehouse"$/);
      expect(res.body).not.toContain(s.orgKeyA.privateKey);
    }
  });

  it(`${name} answers 401 invalid_token to a malformed bearer token`, async () => {
    const res = await send(bearer('not.a-jwt.at-all'));
    expectBearerRefusal(res, 401, /^Bearer realm="gatehouse", error="invalid_token"/);
    expect(res.json().error).toBe('invalid_token');
  });

  it(`${name} answers 403 insufficient_scope to a user token without openid`, async () => {
    const res = await send(bearer(shared().ownerTokens.a));
    expectBearerRefusal(res, 403, /^Bearer realm="gatehouse", error="insufficient_scope"/);
    expect(res.json().error).toBe('insufficient_scope');
  });

  it(`${name} answers another tenant's user with their own claims, nothing of tenant A`, async () => {
    const context = shared();
    const res = await send(bearer(context.openidTokenOfB));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ sub: String(context.fixture.seed.b.userId), email: 'owner@b.test' });
    expectNothingOfA(res, context.fixture);
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
  } else if (expected.answer === 'script') {
    expect(type).toMatch(/^text\/javascript/);
  } else if (expected.answer === 'redirect') {
    expect(String(res.headers.location)).toMatch(expected.location ?? /^\//);
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

/** A 201 answer's body: the fixture's setup fails loudly rather than leave a check aimed at nothing. */
async function created(
  app: FastifyInstance,
  url: string,
  headers: Headers,
  payload: Record<string, unknown>,
) {
  const res = await app.inject({ method: 'POST', url, headers, payload });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(201);
  return res.json();
}

/** An owner's access token through `client`, from a real authorization code grant in `browser`. */
async function ownerToken(
  app: FastifyInstance,
  browser: Browser,
  client: { publicKey: string; privateKey: string },
  scope = 'api1',
): Promise<string> {
  const code = await codeFor(browser, client.publicKey, REDIRECT_URI, scope);
  const res = await tokenRequest(app, client, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().access_token;
}

/**
 * The resources of A the checks aim at (route-table.ts {@link RouteFixture}), made through the admin
 * API with A's admin key, and each owner's token. A's owner, signed in in `browser`, consents to A's
 * organization key and to a spare key whose consent the checks withdraw.
 */
async function setUp(app: FastifyInstance, s: Seed): Promise<Shared> {
  const asA = { 'x-api-key': s.adminKeyA.privateKey };
  const entity = await created(
    app,
    `/v1/workspaces/${s.a.mainWorkspaceId}/entities`,
    { 'x-api-key': s.orgKeyA.privateKey },
    { name: MARKER_OF_A },
  );
  const spareKey = await created(app, '/v1/api-keys', asA, { label: 'A spare key' });
  const revocableKey = await created(app, '/v1/api-keys', asA, { label: 'A key to revoke' });
  const consentedKey = await created(app, '/v1/api-keys', asA, {
    label: 'A consented key',
    redirectUris: [REDIRECT_URI],
  });
  const member = (email: string) =>
    created(app, '/v1/members', asA, { email, role: 'member', password: PASSWORD });
  const spareMember = await member('spare-member@a.test');
  const removableMember = await member('removable-member@a.test');
  const invited = await created(app, '/v1/members', asA, { email: 'invited@a.test', role: 'member' });
  const signInLink = new URL(invited.signInLink).searchParams.get('token');
  if (!signInLink) throw new Error(`no sign-in link token in ${invited.signInLink}`);
  const appOfB = await created(
    app,
    '/v1/api-keys',
    { 'x-api-key': s.adminKeyB.privateKey },
    { label: 'B app key', redirectUris: [REDIRECT_URI] },
  );

  const browser = new Browser(app);
  const signedIn = await browser.signIn('owner@a.test', PASSWORD);
  expect(signedIn.statusCode, signedIn.body).toBe(303);
  // Consents once, so that codes come without a consent page and the account page has a consent to protect.
  await codeFor(browser, s.orgKeyA.key.publicKey, REDIRECT_URI);
  await codeFor(browser, consentedKey.publicKey, REDIRECT_URI);
  const browserOfB = new Browser(app);
  const signedInB = await browserOfB.signIn('owner@b.test', PASSWORD);
  expect(signedInB.statusCode, signedInB.body).toBe(303);
  const ownerTokens = {
    a: await ownerToken(app, browser, {
      publicKey: s.orgKeyA.key.publicKey,
      privateKey: s.orgKeyA.privateKey,
    }),
    b: await ownerToken(app, browserOfB, appOfB),
  };
  const openidTokenOfB = await ownerToken(app, browserOfB, appOfB, 'openid email');
  const fixture: RouteFixture = {
    seed: s,
    entityOfA: entity.id,
    spareKeyOfA: spareKey.publicKey,
    revocableKeyOfA: revocableKey.publicKey,
    spareMemberOfA: spareMember.id,
    removableMemberOfA: removableMember.id,
    consentedKeyOfA: consentedKey.publicKey,
    signInLinkOfA: signInLink,
  };
  return { app, fixture, browser, ownerTokens, openidTokenOfB };
}

/**
 * The checks every route of the table must pass, by kind (see route-table.ts). Call inside a
 * `describe` whose hooks build the app and seed it; this adds the data the checks aim at (see
 * {@link setUp}): spare resources of tenant A, a browser signed in as A's owner who consented to A's
 * organization key, and each tenant owner's access token.
 */
export function runCommonRouteTests(context: CommonRouteContext, routes: readonly RouteEntry[]): void {
  let state: Shared | undefined;
  const shared = (): Shared => {
    if (!state) throw new Error('the common route checks ran before their setup');
    return state;
  };

  beforeAll(async () => {
    state = await setUp(context.app(), context.seed());
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
        case 'oauth-bearer':
          return oauthBearerChecks(route, shared);
        case 'page':
          return pageChecks(route, shared);
        case 'public':
          return publicChecks(route, shared);
      }
    });
  }
}
