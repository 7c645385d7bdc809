import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAccessToken } from '../../src/oauth/access-token.ts';
import { Browser, codeFor, tokenRequest } from '../helpers/authorization-flow.ts';
import { basicAuth, postForm } from '../helpers/http.ts';
import { PASSWORD, seed } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { createTestApp, describeEachDialect, type TestApp } from '../helpers/test-app.ts';
import { createClientThroughApi, OAUTH_ENV, tokenFor } from './oauth-helpers.ts';

const REDIRECT = 'https://rp.example/callback';
const SPA_ORIGIN = 'https://spa.example';

type Client = Awaited<ReturnType<typeof createClientThroughApi>>;

/** A confidential OpenID Connect client of `tenant`, made through the admin API. */
const createClient = (app: FastifyInstance, adminKey: string, label: string): Promise<Client> =>
  createClientThroughApi(app, adminKey, { label, redirectUris: [REDIRECT], corsOrigins: [SPA_ORIGIN] });

/** The tokens of a real authorization code grant of `scope`, for the user signed in in `browser`. */
async function grant(app: FastifyInstance, browser: Browser, client: Client, scope: string) {
  const code = await codeFor(browser, client.publicKey, REDIRECT, scope);
  const res = await tokenRequest(app, client, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { access_token: string; scope: string; id_token?: string };
}

function userinfo(app: FastifyInstance, token: string | null, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'GET',
    url: '/connect/userinfo',
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
  });
}

/** RFC 6750 3 with an error code: the challenge names it, the RFC 6749 JSON body too, never cached. */
function expectBearerError(res: LightMyRequestResponse, status: number, error: string, description?: RegExp) {
  expect(res.statusCode, res.body).toBe(status);
  const challenge = String(res.headers['www-authenticate']);
  expect(challenge).toMatch(
    new RegExp(`^Bearer realm="gatehouse", error="${error}", error_description="[^"]+"`),
  );
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.json().error).toBe(error);
  if (description) expect(res.json().error_description).toMatch(description);
}

describeEachDialect('GET and POST /connect/userinfo (OpenID Connect Core 5.3, RFC 6750)', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);
  let client: Client;
  let owner: Browser;
  let member: { id: number; browser: Browser };
  beforeAll(async () => {
    const { app, seed: s } = ctx;
    client = await createClient(app, s.adminKeyA.privateKey, 'A sign-in app');
    owner = new Browser(app);
    expect((await owner.signIn('owner@a.test', PASSWORD)).statusCode).toBe(303);
    const added = await app.inject({
      method: 'POST',
      url: '/v1/members',
      headers: { 'x-api-key': s.adminKeyA.privateKey },
      payload: { email: 'ada@a.test', displayName: 'Ada Lovelace', role: 'member', password: PASSWORD },
    });
    expect(added.statusCode, added.body).toBe(201);
    const browser = new Browser(app);
    expect((await browser.signIn('ada@a.test', PASSWORD)).statusCode).toBe(303);
    member = { id: added.json().id, browser };
  });

  it('answers openid alone with sub only: the user id, as in the access token', async () => {
    const { access_token } = await grant(ctx.app, owner, client, 'openid');
    const res = await userinfo(ctx.app, access_token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ sub: String(ctx.seed.a.userId) });
  });

  it('adds name with profile, and email with email_verified false with email', async () => {
    const profile = await grant(ctx.app, member.browser, client, 'openid profile');
    expect((await userinfo(ctx.app, profile.access_token)).json()).toEqual({
      sub: String(member.id),
      name: 'Ada Lovelace',
    });
    const email = await grant(ctx.app, member.browser, client, 'openid email');
    expect((await userinfo(ctx.app, email.access_token)).json()).toEqual({
      sub: String(member.id),
      email: 'ada@a.test',
      email_verified: false,
    });
    const both = await grant(ctx.app, member.browser, client, 'openid api1 profile email');
    expect((await userinfo(ctx.app, both.access_token)).json()).toEqual({
      sub: String(member.id),
      name: 'Ada Lovelace',
      email: 'ada@a.test',
      email_verified: false,
    });
  });

  it('answers POST the same as GET, with an empty body or an empty form', async () => {
    const { access_token } = await grant(ctx.app, owner, client, 'openid email');
    const expected = { sub: String(ctx.seed.a.userId), email: 'owner@a.test', email_verified: false };
    const bare = await ctx.app.inject({
      method: 'POST',
      url: '/connect/userinfo',
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(bare.statusCode, bare.body).toBe(200);
    expect(bare.json()).toEqual(expected);
    const form = await postForm(ctx.app, '/connect/userinfo', '', {
      authorization: `Bearer ${access_token}`,
    });
    expect(form.statusCode, form.body).toBe(200);
    expect(form.json()).toEqual(expected);
  });

  it('answers no token with the bare challenge (RFC 6750 3.1), and an API key is no token here', async () => {
    for (const headers of [{}, { 'x-api-key': ctx.seed.adminKeyA.privateKey }]) {
      const res = await userinfo(ctx.app, null, headers);
      expect(res.statusCode, res.body).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).not.toContain(ctx.seed.adminKeyA.privateKey);
    }
  });

  it('refuses a token in the query string or in the form body with invalid_request, without reading it', async () => {
    const { access_token } = await grant(ctx.app, owner, client, 'openid');
    const query = await ctx.app.inject({ url: `/connect/userinfo?access_token=${access_token}` });
    expectBearerError(query, 400, 'invalid_request', /Authorization header/);
    expect(query.body).not.toContain(access_token);
    // Even beside a good header: the token in the URL is already a mistake to report, not to ignore.
    const beside = await ctx.app.inject({
      url: `/connect/userinfo?access_token=${access_token}`,
      headers: { authorization: `Bearer ${access_token}` },
    });
    expectBearerError(beside, 400, 'invalid_request');
    const body = await postForm(ctx.app, '/connect/userinfo', { access_token });
    expectBearerError(body, 400, 'invalid_request', /not in the body/);
    expect(body.body).not.toContain(access_token);
  });

  it('refuses a malformed, forged or foreign-issuer token with invalid_token', async () => {
    const { access_token } = await grant(ctx.app, owner, client, 'openid');
    const [header, payload] = access_token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    for (const token of ['not.a-jwt.at-all', forged])
      expectBearerError(await userinfo(ctx.app, token), 401, 'invalid_token');
    expectBearerError(
      await userinfo(ctx.app, null, { authorization: 'Basic Zm9vOmJhcg==' }),
      401,
      'invalid_token',
    );
  });

  it('refuses a revoked token with invalid_token (RFC 7009 revocation reaches userinfo)', async () => {
    const { access_token } = await grant(ctx.app, owner, client, 'openid');
    expect((await userinfo(ctx.app, access_token)).statusCode).toBe(200);
    const revoked = await postForm(
      ctx.app,
      '/connect/revocation',
      { token: access_token },
      { authorization: basicAuth(client.publicKey, client.privateKey) },
    );
    expect(revoked.statusCode).toBe(200);
    expectBearerError(await userinfo(ctx.app, access_token), 401, 'invalid_token', /revoked/);
  });

  it('refuses the token of a revoked API key with invalid_token, at once', async () => {
    const doomed = await createClient(ctx.app, ctx.seed.adminKeyA.privateKey, 'A doomed app');
    const { access_token } = await grant(ctx.app, owner, doomed, 'openid');
    expect((await userinfo(ctx.app, access_token)).statusCode).toBe(200);
    const revoked = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/api-keys/${doomed.publicKey}`,
      headers: { 'x-api-key': ctx.seed.adminKeyA.privateKey },
    });
    expect(revoked.statusCode, revoked.body).toBeLessThan(300);
    expectBearerError(await userinfo(ctx.app, access_token), 401, 'invalid_token', /revoked/);
  });

  it('refuses an expired token with invalid_token', async () => {
    const key = await ctx.app.services.keys.findClient(client.publicKey);
    if (!key) throw new Error('the client was not created');
    const { token } = await issueAccessToken(ctx.app.services, {
      client: key,
      userId: ctx.seed.a.userId,
      scope: 'openid',
      workspaceId: null,
      now: Date.now() - 2 * ctx.app.services.config.accessTokenTtl * 1000,
    });
    expectBearerError(await userinfo(ctx.app, token), 401, 'invalid_token', /expired/);
  });

  it('refuses the token of a user since removed from the organization with invalid_token', async () => {
    const added = await ctx.app.inject({
      method: 'POST',
      url: '/v1/members',
      headers: { 'x-api-key': ctx.seed.adminKeyA.privateKey },
      payload: { email: 'leaving@a.test', role: 'member', password: PASSWORD },
    });
    const browser = new Browser(ctx.app);
    expect((await browser.signIn('leaving@a.test', PASSWORD)).statusCode).toBe(303);
    const { access_token } = await grant(ctx.app, browser, client, 'openid email');
    expect((await userinfo(ctx.app, access_token)).json().email).toBe('leaving@a.test');
    const removed = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/members/${added.json().id}`,
      headers: { 'x-api-key': ctx.seed.adminKeyA.privateKey },
    });
    expect(removed.statusCode, removed.body).toBeLessThan(300);
    const res = await userinfo(ctx.app, access_token);
    expectBearerError(res, 401, 'invalid_token');
    expect(res.body).not.toContain('leaving@a.test');
  });

  it('answers a token without openid (an API token) with 403 insufficient_scope and scope="openid"', async () => {
    const { access_token } = await grant(ctx.app, owner, client, 'api1');
    const res = await userinfo(ctx.app, access_token);
    expectBearerError(res, 403, 'insufficient_scope', /openid/);
    expect(res.headers['www-authenticate']).toMatch(/, scope="openid"$/);
    // The token itself is good: the REST API still takes it.
    const me = await ctx.app.inject({ url: '/me', headers: { authorization: `Bearer ${access_token}` } });
    expect(me.statusCode).toBe(200);
  });

  it('answers a client-credentials token (no user) with 403 insufficient_scope', async () => {
    const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
    expectBearerError(await userinfo(ctx.app, token), 403, 'insufficient_scope');
  });

  it("answers CORS for an origin the token's key allows, and for no other", async () => {
    const { access_token } = await grant(ctx.app, owner, client, 'openid');
    const allowed = await userinfo(ctx.app, access_token, { origin: SPA_ORIGIN });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    expect(allowed.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/);
    expect(allowed.headers.vary).toMatch(/Origin/);
    const other = await userinfo(ctx.app, access_token, { origin: 'https://evil.example' });
    expect(other.statusCode).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    // The API token of another key that does not allow the origin: no CORS either.
    const foreign = await userinfo(ctx.app, await tokenFor(ctx.app, ctx.seed.orgKeyA), {
      origin: SPA_ORIGIN,
    });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers the preflight of an allowed origin (Authorization header, GET and POST)', async () => {
    const preflight = (origin: string) =>
      ctx.app.inject({
        method: 'OPTIONS',
        url: '/connect/userinfo',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(SPA_ORIGIN);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    expect(allowed.headers['access-control-allow-methods']).toMatch(/GET.*POST|POST.*GET/);
    expect(allowed.headers['access-control-allow-headers']).toMatch(/authorization/i);
    const refused = await preflight('https://evil.example');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("gives another tenant's user their own claims, nothing of tenant A", async () => {
    const b = await createClient(ctx.app, ctx.seed.adminKeyB.privateKey, 'B sign-in app');
    const browser = new Browser(ctx.app);
    expect((await browser.signIn('owner@b.test', PASSWORD)).statusCode).toBe(303);
    const { access_token } = await grant(ctx.app, browser, b, 'openid email');
    const res = await userinfo(ctx.app, access_token);
    expect(res.json()).toEqual({
      sub: String(ctx.seed.b.userId),
      email: 'owner@b.test',
      email_verified: false,
    });
  });
});

describe('/connect/userinfo rate limits, like every bearer call', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite', { GATEHOUSE_RATE_LIMIT: '2', GATEHOUSE_TOKEN_RATE_LIMIT: '1000000' });
  });
  afterAll(() => t.close());

  it("spends the credential's budget: 429 with Retry-After and RateLimit headers once it is spent", async () => {
    const s = await seed(t.app.services.db);
    // Issued directly: the sign-in pages would spend the address's budget of 2 before the test starts.
    const { token: access_token } = await issueAccessToken(t.app.services, {
      client: s.orgKeyA.key,
      userId: s.a.userId,
      scope: 'openid',
      workspaceId: null,
    });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await userinfo(t.app, access_token));
    expect(answers.map((res) => res.statusCode)).toEqual([200, 200, 429]);
    const limited = answers[2] as LightMyRequestResponse;
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.headers['ratelimit-limit']).toBe('2');
    expect(limited.json().error).toBe('rate_limited');
  });
});
