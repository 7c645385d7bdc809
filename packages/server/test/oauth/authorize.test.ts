import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { Browser, pkcePair } from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';
const OWNER_A = { email: 'owner@a.test', password: PASSWORD };

describeEachDialect('GET|POST /connect/authorize', (dialect) => {
  const ctx = useSeededApp(dialect);
  let issuer: string;
  let query: (extra?: Record<string, string>) => Record<string, string>;
  beforeAll(async () => {
    issuer = ctx.app.services.config.issuer;
    query = (extra = {}) => ({
      response_type: 'code',
      client_id: ctx.seed.orgKeyA.key.publicKey,
      redirect_uri: REDIRECT,
      scope: 'api1 offline_access',
      state: 'st-1',
      ...extra,
    });
  });
  beforeEach(() => ctx.app.services.signInThrottle.clear());

  const get = (params: Record<string, string> | string, headers: Record<string, string> = {}) =>
    ctx.app.inject({
      method: 'GET',
      url: `/connect/authorize?${typeof params === 'string' ? params : new URLSearchParams(params)}`,
      headers,
    });

  /** A redirect to the client, parsed; fails the test when the answer is anything else. */
  function clientRedirect(res: { statusCode: number; headers: Record<string, unknown> }) {
    expect(res.statusCode).toBe(303);
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    return Object.fromEntries(location.searchParams);
  }

  async function signedIn(): Promise<Browser> {
    const browser = new Browser(ctx.app);
    expect((await browser.signIn(OWNER_A.email, OWNER_A.password)).statusCode).toBe(303);
    return browser;
  }

  it('sends a browser without a session to the sign-in page, returning to the same request', async () => {
    const res = await get(query());
    expect(res.statusCode).toBe(303);
    const location = new URL(String(res.headers.location), issuer);
    expect(location.pathname).toBe('/console/sign-in');
    const returnTo = location.searchParams.get('return_to') as string;
    expect(returnTo.startsWith('/connect/authorize?')).toBe(true);
    expect(Object.fromEntries(new URLSearchParams(returnTo.split('?')[1]))).toEqual(query());
  });

  it('redirects with code, state and iss once signed in and consented (RFC 9207)', async () => {
    const { location } = await new Browser(ctx.app).authorize(query(), OWNER_A);
    expect(location?.origin + (location?.pathname ?? '')).toBe(REDIRECT);
    expect(location?.searchParams.get('code')).toMatch(/^gac_[A-Za-z0-9_-]{43}$/);
    expect(location?.searchParams.get('state')).toBe('st-1');
    expect(location?.searchParams.get('iss')).toBe(issuer);
  });

  it('accepts POST with a form body as well as GET (RFC 6749 3.1)', async () => {
    const browser = await signedIn();
    const res = await browser.post('/connect/authorize', query({ prompt: 'consent' }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('action="/console/consent"');
  });

  it('echoes state byte for byte, whatever characters it holds', async () => {
    const browser = await signedIn();
    const state = 'a b&c=d/é?#<"\'>';
    await browser.authorize(query({ state: 'first' }));
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ state }))}`);
    expect(clientRedirect(res).state).toBe(state);
  });

  it('goes straight back to the client when consent is remembered', async () => {
    const browser = await signedIn();
    await browser.authorize(query());
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ state: 'again' }))}`);
    const params = clientRedirect(res);
    expect(params.code).toMatch(/^gac_/);
    expect(params).toMatchObject({ state: 'again', iss: issuer });
  });

  it.each([
    ['a trailing slash', `${REDIRECT}/`],
    ['another case', 'https://APP.example/callback'],
    ['another path case', 'https://app.example/Callback'],
    ['an extra query', `${REDIRECT}?next=https://evil.example`],
    ['another port', 'https://app.example:8443/callback'],
    ['an explicit default port', 'https://app.example:443/callback'],
    ['userinfo', 'https://evil.example@app.example/callback'],
    ['a fragment', `${REDIRECT}#frag`],
    ['http instead of https', 'http://app.example/callback'],
    ['another host', 'https://evil.example/callback'],
    ['a path traversal', 'https://app.example/callback/../evil'],
    ['an encoded variant', 'https://app.example/%63allback'],
  ])('shows an error page, never a redirect, for a redirect URI with %s', async (_name, redirectUri) => {
    const res = await get(query({ redirect_uri: redirectUri }));
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('The redirect URI is not registered for this application.');
  });

  it.each([
    ['an unknown client', { client_id: 'gpk_AAAAAAAAAAAAAAAAAAAAAAAA' }],
    ['a malformed client_id', { client_id: "'; drop table api_keys; --" }],
  ])('shows an error page, never a redirect, for %s', async (_name, extra) => {
    const res = await get(query(extra));
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain('This application is unknown');
  });

  it('shows an error page for a revoked key, even with its registered redirect URI', async () => {
    const key = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'Soon revoked', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    await revokeApiKey(ctx.app.services.db, key.key.publicKey, CLI_ACTOR);
    const res = await get(query({ client_id: key.key.publicKey }));
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  it.each([
    ['client_id is missing', { client_id: '' }, 'The client_id parameter is missing.'],
    ['redirect_uri is missing', { redirect_uri: '' }, 'The redirect_uri parameter is missing.'],
  ])('shows an error page when %s', async (_name, extra, message) => {
    const params = query(extra);
    const res = await get(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== '')));
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain(message);
  });

  it('shows an error page when client_id or redirect_uri is repeated (no guessing which one counts)', async () => {
    const base = new URLSearchParams(query());
    for (const [name, value] of [
      ['client_id', ctx.seed.orgKeyA.key.publicKey],
      ['redirect_uri', 'https://evil.example/callback'],
    ] as const) {
      const params = new URLSearchParams(base);
      params.append(name, value);
      const res = await get(params.toString());
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
    }
  });

  it('error pages carry the strict Content-Security-Policy and are not cached', async () => {
    const res = await get(query({ redirect_uri: 'https://evil.example/' }));
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['response_type is missing', { response_type: '' }, 'invalid_request'],
    ['response_type=token (implicit)', { response_type: 'token' }, 'unsupported_response_type'],
    ['response_type=code id_token', { response_type: 'code id_token' }, 'unsupported_response_type'],
    ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request'],
    ['response_mode=form_post', { response_mode: 'form_post' }, 'invalid_request'],
    ['an unknown scope', { scope: 'api1 admin' }, 'invalid_scope'],
    ['a scope without api1', { scope: 'offline_access' }, 'invalid_scope'],
    [
      'code_challenge_method=plain',
      { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' },
      'invalid_request',
    ],
    ['a challenge without method (which means plain)', { code_challenge: 'a'.repeat(43) }, 'invalid_request'],
    ['a method without challenge', { code_challenge_method: 'S256' }, 'invalid_request'],
    [
      'a challenge of the wrong shape',
      { code_challenge: 'short', code_challenge_method: 'S256' },
      'invalid_request',
    ],
    ['an unknown prompt', { prompt: 'select_account' }, 'invalid_request'],
    ['prompt=none with login', { prompt: 'none login' }, 'invalid_request'],
  ])('redirects %s back as an error with state and iss', async (_name, extra, error) => {
    const params = Object.fromEntries(Object.entries(query(extra)).filter(([, v]) => v !== ''));
    const answer = clientRedirect(await get(params));
    expect(answer).toMatchObject({ error, state: 'st-1', iss: issuer });
    expect(answer.error_description).toEqual(expect.any(String));
    expect(answer.code).toBeUndefined();
  });

  it('redirects a repeated parameter as invalid_request', async () => {
    const params = new URLSearchParams(query());
    params.append('scope', 'api1');
    expect(clientRedirect(await get(params.toString()))).toMatchObject({
      error: 'invalid_request',
      iss: issuer,
    });
  });

  it('omits state from an error when the client sent none', async () => {
    const params = query({ response_type: 'token' });
    delete params.state;
    const answer = clientRedirect(await get(params));
    expect(answer).toEqual({
      error: 'unsupported_response_type',
      error_description: expect.any(String),
      iss: issuer,
    });
  });

  it('keeps the query of a registered redirect URI and adds the response to it (RFC 6749 3.1.2)', async () => {
    const withQuery = 'https://app.example/cb?tenant=a';
    const key = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'Query redirect', redirectUris: [withQuery] },
      CLI_ACTOR,
    );
    const res = await get(
      query({ client_id: key.key.publicKey, redirect_uri: withQuery, response_type: 'token' }),
    );
    const location = new URL(String(res.headers.location));
    expect(location.searchParams.get('tenant')).toBe('a');
    expect(location.searchParams.get('error')).toBe('unsupported_response_type');
  });

  it('defaults a missing scope to api1', async () => {
    const params = query();
    delete params.scope;
    const browser = await signedIn();
    const res = await browser.get(
      `/connect/authorize?${new URLSearchParams({ ...params, prompt: 'consent' })}`,
    );
    expect(res.body).toContain('<span class="scope">api1</span>');
    expect(res.body).not.toContain('offline_access');
  });

  it('prompt=none without a session answers login_required, never a page', async () => {
    expect(clientRedirect(await get(query({ prompt: 'none' })))).toMatchObject({
      error: 'login_required',
      state: 'st-1',
      iss: issuer,
    });
  });

  it('prompt=none without a remembered consent answers consent_required', async () => {
    const browser = await signedIn();
    const key = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'Never consented', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    const res = await browser.get(
      `/connect/authorize?${new URLSearchParams(query({ client_id: key.key.publicKey, prompt: 'none' }))}`,
    );
    expect(clientRedirect(res)).toMatchObject({ error: 'consent_required', state: 'st-1', iss: issuer });
  });

  it('prompt=none with a session and a remembered consent answers a code', async () => {
    const browser = await signedIn();
    await browser.authorize(query());
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ prompt: 'none' }))}`);
    expect(clientRedirect(res).code).toMatch(/^gac_/);
  });

  it('prompt=none answers consent_required when more scope is asked than was consented', async () => {
    const browser = await signedIn();
    await ctx.app.services.db.deleteFrom('consents').execute();
    await browser.authorize(query({ scope: 'api1' }));
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ prompt: 'none' }))}`);
    expect(clientRedirect(res)).toMatchObject({ error: 'consent_required' });
  });

  it('prompt=login asks for the password again even with a session, then continues', async () => {
    const browser = await signedIn();
    await browser.authorize(query());
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ prompt: 'login' }))}`);
    expect(res.statusCode).toBe(303);
    const location = String(res.headers.location);
    expect(location.startsWith('/console/sign-in?')).toBe(true);
    // The return trip drops `login`, so that the fresh sign-in satisfies it instead of looping.
    const returnTo = new URL(location, issuer).searchParams.get('return_to') as string;
    expect(new URLSearchParams(returnTo.split('?')[1]).get('prompt')).toBeNull();
    const { location: done } = await browser.authorize(query({ prompt: 'login' }), OWNER_A);
    expect(done?.searchParams.get('code')).toMatch(/^gac_/);
  });

  it('prompt=consent shows the consent page even when consent is remembered', async () => {
    const browser = await signedIn();
    await browser.authorize(query());
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ prompt: 'consent' }))}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('action="/console/consent"');
  });

  it('accepts a PKCE S256 challenge', async () => {
    const { challenge } = pkcePair();
    const { location } = await new Browser(ctx.app).authorize(
      query({ code_challenge: challenge, code_challenge_method: 'S256' }),
      OWNER_A,
    );
    expect(location?.searchParams.get('code')).toMatch(/^gac_/);
  });

  it('never answers CORS, not even for an origin a key allows', async () => {
    const key = await createApiKey(
      ctx.app.services.db,
      {
        tenantId: ctx.seed.a.tenantId,
        label: 'SPA',
        redirectUris: [REDIRECT],
        corsOrigins: ['https://app.example'],
      },
      CLI_ACTOR,
    );
    await ctx.app.services.origins.refresh();
    const preflight = await ctx.app.inject({
      method: 'OPTIONS',
      url: '/connect/authorize',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const res = await get(query({ client_id: key.key.publicKey }), { origin: 'https://app.example' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a user of another tenant with a clear message after a correct password, and no session', async () => {
    const browser = new Browser(ctx.app);
    const { res, location } = await browser.authorize(query(), { email: 'owner@b.test', password: PASSWORD });
    expect(location).toBeNull();
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('This account is not a member of the organization of this application.');
    expect([...browser.jar.cookies.keys()]).not.toContain('gatehouse-session');
  });

  it('sends a signed-in user of another tenant back to the sign-in page with a notice', async () => {
    const browser = new Browser(ctx.app);
    expect((await browser.signIn('owner@b.test', PASSWORD)).statusCode).toBe(303);
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query())}`);
    expect(res.statusCode).toBe(303);
    const location = String(res.headers.location);
    expect(location).toContain('reason=not_member');
    const page = await browser.get(location);
    expect(page.body).toContain('not a member of the organization of this application');
    const none = await browser.get(`/connect/authorize?${new URLSearchParams(query({ prompt: 'none' }))}`);
    expect(clientRedirect(none)).toMatchObject({ error: 'login_required' });
  });
});
