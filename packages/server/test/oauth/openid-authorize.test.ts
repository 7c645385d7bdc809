import { beforeAll, beforeEach, expect, it } from 'vitest';
import { findAuthorizationCode } from '../../src/domain/authorization-codes.ts';
import { Browser, hiddenFields } from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';
const OWNER_A = { email: 'owner@a.test', password: PASSWORD };

/** The OpenID Connect parameters of the authorization request (OpenID Connect Core 3.1.2.1). */
describeEachDialect('OpenID Connect authorization requests', (dialect) => {
  const ctx = useSeededApp(dialect);
  let query: (extra?: Record<string, string>) => Record<string, string>;
  beforeAll(() => {
    query = (extra = {}) => ({
      response_type: 'code',
      client_id: ctx.seed.orgKeyA.key.publicKey,
      redirect_uri: REDIRECT,
      scope: 'openid profile email api1',
      state: 'st-1',
      ...extra,
    });
  });
  beforeEach(() => ctx.app.services.signInThrottle.clear());

  async function signedIn(): Promise<Browser> {
    const browser = new Browser(ctx.app);
    expect((await browser.signIn(OWNER_A.email, OWNER_A.password)).statusCode).toBe(303);
    return browser;
  }

  /** Makes every session of the browser's user look as if its sign-in happened `ageMs` ago. */
  async function ageSessions(ageMs: number): Promise<number> {
    const authenticatedAt = Date.now() - ageMs;
    await ctx.app.services.db.updateTable('sessions').set({ authenticated_at: authenticatedAt }).execute();
    return authenticatedAt;
  }

  /** The stored record of the code in a redirect to the client. */
  async function codeRecordOf(location: URL | null) {
    const code = location?.searchParams.get('code');
    expect(code).toBeTruthy();
    const record = await findAuthorizationCode(ctx.app.services.db, code as string);
    expect(record).toBeDefined();
    return record as NonNullable<typeof record>;
  }

  it('binds the nonce, the time of sign-in and the session id to the code', async () => {
    const browser = await signedIn();
    const { location } = await browser.authorize(query({ nonce: 'n-0S6_WzA2Mj' }), OWNER_A);
    const record = await codeRecordOf(location);
    expect(record.nonce).toBe('n-0S6_WzA2Mj');
    expect(record.sid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Date.now() - (record.authTime as number)).toBeLessThan(60_000);
    expect(record.scope).toBe('api1 openid profile email');
  });

  it('keeps no nonce when the request had none', async () => {
    const browser = await signedIn();
    const { location } = await browser.authorize(query(), OWNER_A);
    expect((await codeRecordOf(location)).nonce).toBeNull();
  });

  it('accepts openid without api1 (sign-in only), and refuses profile or email without openid', async () => {
    const browser = await signedIn();
    const { location } = await browser.authorize(query({ scope: 'openid email' }), OWNER_A);
    expect((await codeRecordOf(location)).scope).toBe('openid email');
    for (const scope of ['profile api1', 'email', 'api1 email offline_access']) {
      const refused = await browser.get(`/connect/authorize?${new URLSearchParams(query({ scope }))}`);
      const params = new URL(String(refused.headers.location)).searchParams;
      expect(params.get('error')).toBe('invalid_scope');
      expect(params.get('error_description')).toMatch(/require openid/);
    }
  });

  it('asks for a fresh sign-in when the session is older than max_age, and auth_time then reflects it', async () => {
    const browser = await signedIn();
    const old = await ageSessions(3_600_000);
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ max_age: '600' }))}`);
    expect(res.statusCode).toBe(303);
    const signIn = new URL(String(res.headers.location), 'http://x');
    expect(signIn.pathname).toBe('/console/sign-in');
    // The way back no longer carries max_age: the fresh sign-in satisfies it, and nothing loops.
    expect(signIn.searchParams.get('return_to')).not.toMatch(/max_age/);
    const { location } = await browser.authorize(query({ max_age: '600' }), OWNER_A);
    const record = await codeRecordOf(location);
    expect(record.authTime).toBeGreaterThan(old + 3_000_000);
  });

  it('issues a code at once when the sign-in is younger than max_age', async () => {
    const browser = await signedIn();
    const at = await ageSessions(60_000);
    // No user to sign in with: a sign-in page on the way would fail the flow.
    const { location } = await browser.authorize(query({ max_age: '600' }));
    expect((await codeRecordOf(location)).authTime).toBe(at);
  });

  it('answers login_required for prompt=none when the sign-in is older than max_age', async () => {
    const browser = await signedIn();
    await browser.authorize(query(), OWNER_A);
    await ageSessions(3_600_000);
    const res = await browser.get(
      `/connect/authorize?${new URLSearchParams(query({ prompt: 'none', max_age: '60' }))}`,
    );
    const params = new URL(String(res.headers.location)).searchParams;
    expect(params.get('error')).toBe('login_required');
    expect(params.get('state')).toBe('st-1');
  });

  it('refuses a max_age that is not a number of seconds', async () => {
    const browser = await signedIn();
    for (const maxAge of ['-1', 'abc', '1.5', '99999999999']) {
      const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ max_age: maxAge }))}`);
      const params = new URL(String(res.headers.location)).searchParams;
      expect(params.get('error')).toBe('invalid_request');
      expect(params.get('error_description')).toMatch(/max_age/);
    }
  });

  it('makes prompt=login re-authenticate a signed-in user, and the new sign-in time reaches the code', async () => {
    const browser = await signedIn();
    const old = await ageSessions(600_000);
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ prompt: 'login' }))}`);
    expect(String(res.headers.location)).toMatch(/^\/console\/sign-in/);
    const { location } = await browser.authorize(query({ prompt: 'login' }), OWNER_A);
    expect((await codeRecordOf(location)).authTime).toBeGreaterThan(old + 500_000);
  });

  it('pre-fills the sign-in form with login_hint, and ignores ui_locales', async () => {
    const res = await ctx.app.inject({
      url: `/connect/authorize?${new URLSearchParams(query({ login_hint: 'owner@a.test', ui_locales: 'fr-CA fr en' }))}`,
    });
    const page = await ctx.app.inject({ url: String(res.headers.location) });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/name="email"[^>]*value="owner@a.test"/);
    expect(hiddenFields(page.body, '/console/sign-in').return_to).toMatch(/ui_locales=/);
  });

  it('does not put a login_hint that is no email address into the form', async () => {
    const res = await ctx.app.inject({
      url: `/connect/authorize?${new URLSearchParams(query({ login_hint: '"><script>alert(1)</script>' }))}`,
    });
    const page = await ctx.app.inject({ url: String(res.headers.location) });
    expect(page.body).not.toContain('<script>alert(1)');
    expect(page.body).toMatch(/name="email"[^>]*value=""/);
  });

  it('names what profile and email release on the consent page', async () => {
    const browser = await signedIn();
    const res = await browser.get(`/connect/authorize?${new URLSearchParams(query({ prompt: 'consent' }))}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('See your name');
    expect(res.body).toContain('See your email address');
    expect(res.body).toContain('Sign you in');
  });
});
