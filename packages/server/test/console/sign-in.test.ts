import { beforeEach, describe, expect, it } from 'vitest';
import { CSRF_FIELD } from '../../src/http/session/csrf.ts';
import { Browser, hiddenFields } from '../helpers/authorization-flow.ts';
import { postForm } from '../helpers/http.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { tamperLast } from '../helpers/tamper.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const header = res.headers['set-cookie'];
  return Array.isArray(header) ? header.map(String) : header ? [String(header)] : [];
}

describeEachDialect('console sign-in, sessions and CSRF', (dialect) => {
  const ctx = useSeededApp(dialect);
  beforeEach(() => ctx.app.services.signInThrottle.clear());

  /** Posts the sign-in form as a browser would, from the page it just loaded. */
  async function attempt(email: string, password: string, options: { ip?: string; browser?: Browser } = {}) {
    const browser = options.browser ?? new Browser(ctx.app);
    const page = await browser.get('/console/sign-in');
    const form = { ...hiddenFields(page.body, '/console/sign-in'), email, password };
    const res = await postForm(ctx.app, '/console/sign-in', form, browser.jar.header(), {
      remoteAddress: options.ip ?? '127.0.0.1',
    });
    browser.jar.store(res);
    return res;
  }

  it('serves the sign-in page with a strict CSP, no caching, no framing, and a CSRF cookie', async () => {
    const res = await ctx.app.inject({ url: '/console/sign-in' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.body).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    const [cookie] = setCookies(res);
    expect(cookie).toMatch(
      /^gatehouse-csrf=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/,
    );
  });

  it('serves its one stylesheet', async () => {
    const res = await ctx.app.inject({ url: '/console/static/console.css' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(res.body).toContain('.card');
  });

  it('signs in: a session cookie (HttpOnly, SameSite=Lax, no Secure on loopback http) and a redirect to the console', async () => {
    const res = await attempt('owner@a.test', PASSWORD);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/');
    const session = setCookies(res).find((c) => c.startsWith('gatehouse-session='));
    expect(session).toMatch(
      /^gatehouse-session=gss_[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Lax$/,
    );
  });

  it('stores only the hash of the session token', async () => {
    const browser = new Browser(ctx.app);
    await attempt('owner@a.test', PASSWORD, { browser });
    const token = browser.jar.cookies.get('gatehouse-session') as string;
    const rows = await ctx.app.services.db.selectFrom('sessions').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(token.slice(4));
  });

  it('gives the same answer for an unknown account and a wrong password', async () => {
    const unknown = await attempt('nobody@a.test', PASSWORD);
    const wrong = await attempt('owner@a.test', 'wrong password, long enough');
    expect(unknown.statusCode).toBe(400);
    expect(wrong.statusCode).toBe(400);
    const normalize = (body: string) =>
      body.replace(/value="[^"]*"/g, 'value=""').replace(/nobody@a\.test|owner@a\.test/g, 'EMAIL');
    expect(normalize(unknown.body)).toBe(normalize(wrong.body));
    expect(wrong.body).toContain('Incorrect email or password.');
    expect(wrong.body).not.toContain('wrong password');
  });

  it('audits failed sign-ins without recording what was typed for an unknown account', async () => {
    await attempt('typed-my-password-here@a.test', PASSWORD);
    await attempt('owner@a.test', 'wrong password, long enough');
    const rows = await ctx.app.services.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'login.failed')
      .orderBy('id')
      .execute();
    const [unknown, wrong] = rows.slice(-2);
    expect(unknown).toMatchObject({ actor: 'anonymous', target: null, ip: '127.0.0.1' });
    expect(JSON.stringify(unknown)).not.toContain('typed-my-password-here');
    expect(wrong).toMatchObject({ actor: 'anonymous', target: `user:${ctx.seed.a.userId}` });
  });

  it('limits failed sign-ins per account, from any address, with 429 and Retry-After', async () => {
    const { perAccount } = ctx.app.services.signInThrottle.limits;
    for (let i = 0; i < perAccount; i++) {
      expect(
        (await attempt('owner@a.test', 'wrong password, long enough', { ip: `10.0.0.${i + 1}` })).statusCode,
      ).toBe(400);
    }
    const blocked = await attempt('owner@a.test', PASSWORD, { ip: '10.0.1.1' });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.body).toContain('Too many attempts');
    // Another account is not affected by this one's count.
    expect((await attempt('owner@b.test', PASSWORD, { ip: '10.0.1.2' })).statusCode).toBe(303);
  });

  it('limits failed sign-ins per address, across accounts', async () => {
    const { perIp } = ctx.app.services.signInThrottle.limits;
    // A reserved attempt that never succeeds counts as a failure.
    for (let i = 0; i < perIp; i++)
      await ctx.app.services.signInThrottle.reserve(`guess${i}@a.test`, '10.9.9.9');
    const blocked = await attempt('owner@a.test', PASSWORD, { ip: '10.9.9.9' });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['retry-after']).toBeDefined();
    expect((await attempt('owner@a.test', PASSWORD, { ip: '10.9.9.10' })).statusCode).toBe(303);
  });

  it('escapes what was typed when it shows the form again', async () => {
    const res = await attempt('"><script>alert(1)</script>@a.test', 'x'.repeat(12));
    expect(res.body).not.toContain('<script>alert(1)</script>');
    expect(res.body).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@a.test');
  });

  describe('CSRF on the sign-in form', () => {
    async function postWith(form: Record<string, string>, headers: Record<string, string> = {}) {
      return postForm(ctx.app, '/console/sign-in', form, headers);
    }

    it('refuses a post without a token with a 403 page', async () => {
      const browser = new Browser(ctx.app);
      await browser.get('/console/sign-in');
      const res = await postWith({ email: 'owner@a.test', password: PASSWORD }, browser.jar.header());
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('This form has expired');
      expect(setCookies(res).some((c) => c.includes('session'))).toBe(false);
    });

    it('refuses a wrong token, a token of another browser, and a token without its cookie', async () => {
      const mine = new Browser(ctx.app);
      const other = new Browser(ctx.app);
      const myPage = await mine.get('/console/sign-in');
      const otherPage = await other.get('/console/sign-in');
      const base = { email: 'owner@a.test', password: PASSWORD };
      const myToken = hiddenFields(myPage.body, '/console/sign-in')[CSRF_FIELD] as string;
      const otherToken = hiddenFields(otherPage.body, '/console/sign-in')[CSRF_FIELD] as string;
      for (const [token, headers] of [
        [tamperLast(myToken), mine.jar.header()],
        [otherToken, mine.jar.header()],
        [myToken, {}],
      ] as const) {
        expect((await postWith({ ...base, [CSRF_FIELD]: token }, headers)).statusCode).toBe(403);
      }
      expect((await postWith({ ...base, [CSRF_FIELD]: myToken }, mine.jar.header())).statusCode).toBe(303);
    });

    it('refuses a post from a foreign origin even with a valid token', async () => {
      const browser = new Browser(ctx.app);
      const page = await browser.get('/console/sign-in');
      const form = {
        ...hiddenFields(page.body, '/console/sign-in'),
        email: 'owner@a.test',
        password: PASSWORD,
      };
      const res = await postWith(form, { ...browser.jar.header(), origin: 'https://evil.example' });
      expect(res.statusCode).toBe(403);
    });
  });

  it.each([
    'https://evil.example/',
    '//evil.example/connect/authorize?x=1',
    '/\\evil.example',
    '\\/evil.example',
    'javascript:alert(1)',
    '/console/../../evil',
    '/connect/authorize?x=1\r\nLocation: https://evil.example',
    ' /connect/authorize?x=1',
    '/o/1/../../evil',
    '/o/1/%2e%2e/%2e%2e/evil',
    '//o/1/api-keys',
    '/o/1\\evil',
    '/o/01/api-keys',
  ])('never redirects off-site after sign-in (return_to=%j)', async (returnTo) => {
    const browser = new Browser(ctx.app);
    const page = await browser.get(`/console/sign-in?${new URLSearchParams({ return_to: returnTo })}`);
    const res = await browser.post('/console/sign-in', {
      ...hiddenFields(page.body, '/console/sign-in'),
      return_to: returnTo,
      email: 'owner@a.test',
      password: PASSWORD,
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/');
  });

  it('replaces any session the browser had on sign-in (no fixation) and ends the old one', async () => {
    const browser = new Browser(ctx.app);
    await attempt('owner@a.test', PASSWORD, { browser });
    const first = browser.jar.cookies.get('gatehouse-session') as string;
    await attempt('owner@a.test', PASSWORD, { browser });
    const second = browser.jar.cookies.get('gatehouse-session') as string;
    expect(second).not.toBe(first);
    const stale = await ctx.app.inject({
      url: '/console',
      headers: { cookie: `gatehouse-session=${first}` },
    });
    expect(stale.statusCode).toBe(303);
  });

  it('signs out on the server: the old cookie no longer opens the console', async () => {
    const browser = new Browser(ctx.app);
    await attempt('owner@a.test', PASSWORD, { browser });
    const token = browser.jar.cookies.get('gatehouse-session') as string;
    const account = await browser.get('/console');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('owner@a.test');
    const res = await browser.post('/console/sign-out', hiddenFields(account.body, '/console/sign-out'));
    expect(res.statusCode).toBe(303);
    expect(setCookies(res).some((c) => /^gatehouse-session=; Max-Age=0/.test(c))).toBe(true);
    const after = await ctx.app.inject({
      url: '/console',
      headers: { cookie: `gatehouse-session=${token}` },
    });
    expect(after.statusCode).toBe(303);
    expect(String(after.headers.location)).toMatch(/^\/console\/sign-in/);
  });

  it('refuses a sign-out without a CSRF token (a page elsewhere cannot sign you out)', async () => {
    const browser = new Browser(ctx.app);
    await attempt('owner@a.test', PASSWORD, { browser });
    const res = await browser.post('/console/sign-out', {});
    expect(res.statusCode).toBe(403);
    expect((await browser.get('/console')).statusCode).toBe(200);
  });
});

describeEachDialect('console cookies behind an https issuer', (dialect) => {
  const ctx = useSeededApp(dialect, { GATEHOUSE_ISSUER: 'https://auth.example' });

  it('uses __Host- cookies with Secure, HttpOnly, SameSite=Lax and Path=/', async () => {
    const browser = new Browser(ctx.app);
    const page = await browser.get('/console/sign-in');
    expect(setCookies(page)[0]).toMatch(
      /^__Host-gatehouse-csrf=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    const res = await browser.post('/console/sign-in', {
      ...hiddenFields(page.body, '/console/sign-in'),
      email: 'owner@a.test',
      password: PASSWORD,
    });
    expect(res.statusCode).toBe(303);
    const session = setCookies(res).find((c) => c.startsWith('__Host-gatehouse-session='));
    expect(session).toMatch(/; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(session).not.toMatch(/Domain=/i);
  });

  it('ignores a cookie without the __Host- prefix (it could have been planted by a sibling domain)', async () => {
    const browser = new Browser(ctx.app);
    const page = await browser.get('/console/sign-in');
    await browser.post('/console/sign-in', {
      ...hiddenFields(page.body, '/console/sign-in'),
      email: 'owner@a.test',
      password: PASSWORD,
    });
    const token = browser.jar.cookies.get('__Host-gatehouse-session') as string;
    const res = await ctx.app.inject({ url: '/console', headers: { cookie: `gatehouse-session=${token}` } });
    expect(res.statusCode).toBe(303);
  });
});
