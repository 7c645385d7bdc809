import { createHmac } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { beforeAll, expect, it } from 'vitest';
import { signCompact } from '../../src/domain/jws.ts';
import {
  Browser,
  type CookieJar,
  codeFor,
  csrfOf,
  hiddenFields,
  tokenRequest,
} from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import { createClientThroughApi, decodePart, OAUTH_ENV } from './oauth-helpers.ts';

const REDIRECT = 'https://rp.example/callback';
const SIGNED_OUT = 'https://rp.example/signed-out';
const SESSION_COOKIE = 'gatehouse-session';

type Client = Awaited<ReturnType<typeof createClientThroughApi>>;

/** A confidential OpenID Connect client with a registered post-logout redirect URI, via the admin API. */
const createClient = (app: FastifyInstance, adminKey: string, label: string): Promise<Client> =>
  createClientThroughApi(app, adminKey, {
    label,
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [SIGNED_OUT],
  });

/** A browser signed in as `email`. */
async function signedIn(app: FastifyInstance, email: string): Promise<Browser> {
  const browser = new Browser(app);
  expect((await browser.signIn(email, PASSWORD)).statusCode).toBe(303);
  return browser;
}

/** The ID token of a real authorization code grant, for the session of `browser`. */
async function idTokenOf(app: FastifyInstance, browser: Browser, client: Client): Promise<string> {
  const code = await codeFor(browser, client.publicKey, REDIRECT, 'openid');
  const res = await tokenRequest(app, client, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
  });
  expect(res.statusCode, res.body).toBe(200);
  const idToken = res.json().id_token;
  expect(idToken, 'the token endpoint answered no id_token').toEqual(expect.any(String));
  return idToken;
}

const endSessionUrl = (params: Record<string, string>) =>
  `/connect/endsession?${new URLSearchParams(params)}`;

/** Whether the browser's session still signs in: the console answers instead of sending to sign-in. */
async function stillSignedIn(browser: Browser): Promise<boolean> {
  const res = await browser.get('/console');
  return res.statusCode === 200;
}

/** A silent authorization request (prompt=none) with these cookies: a code, or login_required. */
async function silentAuthorization(app: FastifyInstance, jar: Record<string, string>, client: Client) {
  const res = await app.inject({
    url: `/connect/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.publicKey,
      redirect_uri: REDIRECT,
      scope: 'openid',
      prompt: 'none',
    })}`,
    headers: jar,
  });
  expect(res.statusCode, res.body).toBe(303);
  return new URL(String(res.headers.location)).searchParams;
}

function expectSessionCookieCleared(res: LightMyRequestResponse) {
  const cookies = [res.headers['set-cookie'] ?? []].flat().map(String);
  expect(cookies.some((line) => line.startsWith(`${SESSION_COOKIE}=;`) && /max-age=0/i.test(line))).toBe(
    true,
  );
}

/** An error page: 400 HTML, no redirect, nothing cached, no cookie touched. */
function expectErrorPage(res: LightMyRequestResponse, message?: RegExp) {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(400);
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  expect(res.headers.location).toBeUndefined();
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['set-cookie']).toBeUndefined();
  if (message) expect(res.body).toMatch(message);
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describeEachDialect(
  'RP-initiated logout at /connect/endsession (OpenID Connect RP-Initiated Logout 1.0)',
  (dialect) => {
    const ctx = useSeededApp(dialect, OAUTH_ENV);
    let client: Client;
    let otherClient: Client;
    let clientOfB: Client;
    beforeAll(async () => {
      client = await createClient(ctx.app, ctx.seed.adminKeyA.privateKey, 'A <b>sign-in</b> app');
      otherClient = await createClient(ctx.app, ctx.seed.adminKeyA.privateKey, 'A second app');
      clientOfB = await createClient(ctx.app, ctx.seed.adminKeyB.privateKey, 'B app');
      const member = await ctx.app.inject({
        method: 'POST',
        url: '/v1/members',
        headers: { 'x-api-key': ctx.seed.adminKeyA.privateKey },
        payload: { email: 'member@a.test', role: 'member', password: PASSWORD },
      });
      expect(member.statusCode, member.body).toBe(201);
    });

    it('ends the session at once for a valid hint of this session, and redirects to the registered URI with state and no iss', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      const before = browser.jar.header();
      const res = await browser.get(
        endSessionUrl({ id_token_hint: hint, post_logout_redirect_uri: SIGNED_OUT, state: 'st-123' }),
      );
      expect(res.statusCode, res.body).toBe(303);
      expect(res.headers.location).toBe(`${SIGNED_OUT}?state=st-123`);
      expect(res.headers['cache-control']).toBe('no-store');
      expectSessionCookieCleared(res);
      expect(browser.jar.cookies.has(SESSION_COOKIE)).toBe(false);
      // The old cookie is dead on the server too: a silent authorization with it needs a sign-in.
      const silent = await silentAuthorization(ctx.app, before, client);
      expect(silent.get('error')).toBe('login_required');
      const console = await ctx.app.inject({ url: '/console', headers: before });
      expect(console.statusCode).toBe(303);
      expect(console.headers.location).toMatch(/^\/console\/sign-in/);
    });

    it('without post_logout_redirect_uri, ends the session and shows the signed-out page', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      const res = await browser.get(endSessionUrl({ id_token_hint: hint, state: 'unused' }));
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(res.body).toContain('You are signed out');
      // The label is shown as text, never as markup.
      expect(res.body).toContain('A &lt;b&gt;sign-in&lt;/b&gt; app');
      expectSessionCookieCleared(res);
      expect(await stillSignedIn(browser)).toBe(false);
    });

    it('accepts POST as well as GET: a same-site form with the session cookie signs out', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      const res = await browser.post('/connect/endsession', {
        id_token_hint: hint,
        post_logout_redirect_uri: SIGNED_OUT,
        state: 'posted',
      });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`${SIGNED_OUT}?state=posted`);
      expect(await stillSignedIn(browser)).toBe(false);
    });

    it('turns a POST without the session cookie (a cross-site form: SameSite=Lax) into a GET, which carries it', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      const form = {
        id_token_hint: hint,
        post_logout_redirect_uri: SIGNED_OUT,
        state: 'cross',
        ui_locales: 'fr',
      };
      const posted = await ctx.app.inject({
        method: 'POST',
        url: '/connect/endsession',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(form).toString(),
      });
      expect(posted.statusCode).toBe(303);
      const location = String(posted.headers.location);
      expect(location.startsWith('/connect/endsession?')).toBe(true);
      expect(Object.fromEntries(new URL(location, 'http://x').searchParams)).toEqual({
        id_token_hint: hint,
        post_logout_redirect_uri: SIGNED_OUT,
        state: 'cross',
      });
      // Nothing ended yet: the session could not be seen.
      expect(await stillSignedIn(browser)).toBe(true);
      const followed = await browser.get(location);
      expect(followed.headers.location).toBe(`${SIGNED_OUT}?state=cross`);
      expect(await stillSignedIn(browser)).toBe(false);
    });

    it('refuses a post_logout_redirect_uri that is not registered byte for byte: error page, no redirect, session intact', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      for (const uri of [
        'https://evil.example/signed-out',
        `${SIGNED_OUT}/`,
        `${SIGNED_OUT}?x=1`,
        'HTTPS://RP.EXAMPLE/signed-out',
        'https://rp.example/callback',
      ]) {
        const res = await browser.get(endSessionUrl({ id_token_hint: hint, post_logout_redirect_uri: uri }));
        expectErrorPage(res, /not registered/);
        expect(res.body).not.toContain('evil.example');
      }
      // Registered for a live client, but not named by the hint nor client_id: there is none to check against.
      expectErrorPage(
        await browser.get(endSessionUrl({ post_logout_redirect_uri: SIGNED_OUT })),
        /needs an id_token_hint/,
      );
      expect(await stillSignedIn(browser)).toBe(true);
    });

    it('refuses a forged id_token_hint (alg none, HS256 keyed with the public key, a bad signature, another issuer, an access token): error page, session intact', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      const [header = '', payload = '', signature = ''] = hint.split('.');
      const claims = decodePart(hint, 1);
      const { kid } = decodePart(hint, 0);
      const rsa = await ctx.app.services.keyRing.verificationKey(String(kid));
      if (!rsa) throw new Error('the ID token names no published key');
      const hmac = (key: string | Buffer, input: string) =>
        createHmac('sha256', key).update(input).digest('base64url');
      const hsInput = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${payload}`;
      const pem = rsa.key.export({ type: 'spki', format: 'pem' });
      const signer = ctx.app.services.keyRing.signer('RS256');
      const foreignIssuer = await signCompact(
        { alg: 'RS256', typ: 'JWT', kid: signer.kid },
        { ...claims, iss: 'https://evil.example' },
        signer.key,
      );
      const accessToken = (
        await tokenRequest(ctx.app, client, {
          grant_type: 'authorization_code',
          code: await codeFor(browser, client.publicKey, REDIRECT, 'openid'),
          redirect_uri: REDIRECT,
        })
      ).json().access_token;
      const es256 = ctx.app.services.keyRing.signer('ES256');
      // RS256 signed by our RSA key, but naming our EC key: an algorithm swap.
      const swapped = await signCompact({ alg: 'RS256', typ: 'JWT', kid: es256.kid }, claims, signer.key);
      const modulus = rsa.jwk.kty === 'RSA' ? rsa.jwk.n : '';
      /** Each forgery, and the check that refuses it. */
      const forgeries: Record<string, [string, RegExp]> = {
        // Without a signature part, it is not even a JWS.
        'alg none': [`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, /malformed/],
        'alg none with a kid': [
          `${b64({ alg: 'none', typ: 'JWT', kid })}.${payload}.${signature}`,
          /algorithm is not accepted/,
        ],
        'HS256 keyed with the PEM public key': [
          `${hsInput}.${hmac(pem, hsInput)}`,
          /algorithm is not accepted/,
        ],
        'HS256 keyed with the modulus': [`${hsInput}.${hmac(modulus, hsInput)}`, /algorithm is not accepted/],
        'RS256 naming the ES256 key': [swapped, /algorithm does not match its key/],
        'another user in a signed token': [
          `${header}.${b64({ ...claims, sub: String(ctx.seed.b.userId) })}.${signature}`,
          /signature is invalid/,
        ],
        'a bad signature': [`${header}.${payload}.${signature.slice(0, -4)}AAAA`, /signature is invalid/],
        'another issuer': [foreignIssuer, /another issuer/],
        'an access token': [accessToken, /typ/],
        'not a JWT': ['definitely-not-a-token', /malformed/],
      };
      for (const [name, [forged, reason]] of Object.entries(forgeries)) {
        const res = await browser.get(
          endSessionUrl({ id_token_hint: forged, post_logout_redirect_uri: SIGNED_OUT, state: 'x' }),
        );
        expect(res.statusCode, name).toBe(400);
        expectErrorPage(res, /not an ID token from Gatehouse/);
        expect(res.body, name).toMatch(reason);
      }
      expect(await stillSignedIn(browser)).toBe(true);
    });

    it("refuses a hint issued to another client than client_id (another tenant's included): error page, session intact", async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      for (const other of [otherClient, clientOfB]) {
        const res = await browser.get(
          endSessionUrl({
            id_token_hint: hint,
            client_id: other.publicKey,
            post_logout_redirect_uri: SIGNED_OUT,
          }),
        );
        expectErrorPage(res, /client_id does not match/);
      }
      // The hint's own client named explicitly is fine.
      const own = await browser.get(
        endSessionUrl({
          id_token_hint: hint,
          client_id: client.publicKey,
          post_logout_redirect_uri: SIGNED_OUT,
        }),
      );
      expect(own.headers.location).toBe(SIGNED_OUT);
    });

    it('refuses a repeated parameter with an error page', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      const query = `id_token_hint=${hint}&post_logout_redirect_uri=${encodeURIComponent(SIGNED_OUT)}&state=a&state=b`;
      expectErrorPage(await browser.get(`/connect/endsession?${query}`), /state parameter is repeated/);
      expect(await stillSignedIn(browser)).toBe(true);
    });

    it('refuses a post_logout_redirect_uri of a revoked client, even with its genuine hint', async () => {
      const doomed = await createClient(ctx.app, ctx.seed.adminKeyA.privateKey, 'A doomed app');
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, doomed);
      await ctx.app.inject({
        method: 'DELETE',
        url: `/v1/api-keys/${doomed.publicKey}`,
        headers: { 'x-api-key': ctx.seed.adminKeyA.privateKey },
      });
      expectErrorPage(
        await browser.get(endSessionUrl({ id_token_hint: hint, post_logout_redirect_uri: SIGNED_OUT })),
        /no longer authorized/,
      );
      expect(await stillSignedIn(browser)).toBe(true);
      // Without a redirect, the user still gets signed out: a revoked app cannot keep anyone signed in.
      const res = await browser.get(endSessionUrl({ id_token_hint: hint }));
      expect(res.statusCode).toBe(200);
      expect(await stillSignedIn(browser)).toBe(false);
    });

    it('asks for confirmation without a hint; a POST without a valid CSRF token is refused; with it, signs out and redirects', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const page = await browser.get(
        endSessionUrl({
          client_id: client.publicKey,
          post_logout_redirect_uri: SIGNED_OUT,
          state: 'confirm-1',
        }),
      );
      expect(page.statusCode).toBe(200);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.body).toContain('Sign out of Gatehouse?');
      expect(page.body).toContain('A &lt;b&gt;sign-in&lt;/b&gt; app');
      expect(page.body).toContain('owner@a.test');
      // The form may lead on to the client's origin, and nowhere else.
      expect(page.headers['content-security-policy']).toMatch(/form-action 'self' https:\/\/rp\.example;/);
      const fields = hiddenFields(page.body, '/console/end-session');
      expect(fields).toEqual({
        client_id: client.publicKey,
        post_logout_redirect_uri: SIGNED_OUT,
        state: 'confirm-1',
        csrf_token: csrfOf(page.body),
      });
      expect(await stillSignedIn(browser)).toBe(true);

      const { csrf_token: _token, ...withoutCsrf } = fields;
      const refused = await browser.post('/console/end-session', withoutCsrf);
      expect(refused.statusCode).toBe(403);
      const other = await signedIn(ctx.app, 'owner@a.test');
      const foreignToken = csrfOf((await other.get(endSessionUrl({}))).body);
      expect(
        (await browser.post('/console/end-session', { ...withoutCsrf, csrf_token: foreignToken })).statusCode,
      ).toBe(403);
      expect(await stillSignedIn(browser)).toBe(true);

      const confirmed = await browser.post('/console/end-session', fields);
      expect(confirmed.statusCode).toBe(303);
      expect(confirmed.headers.location).toBe(`${SIGNED_OUT}?state=confirm-1`);
      expectSessionCookieCleared(confirmed);
      expect(await stillSignedIn(browser)).toBe(false);
    });

    it('validates the confirmed request again: a tampered redirect URI is refused and the session stays', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const page = await browser.get(
        endSessionUrl({ client_id: client.publicKey, post_logout_redirect_uri: SIGNED_OUT }),
      );
      const fields = hiddenFields(page.body, '/console/end-session');
      const res = await browser.post('/console/end-session', {
        ...fields,
        post_logout_redirect_uri: 'https://evil.example/',
      });
      expectErrorPage(res, /not registered/);
      expect(await stillSignedIn(browser)).toBe(true);
    });

    it('asks for confirmation without any parameter, and then shows the signed-out page', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const page = await browser.get('/connect/endsession');
      expect(page.body).toContain('An application asks to sign you out');
      expect(page.headers['content-security-policy']).toMatch(/form-action 'self';/);
      const done = await browser.post(
        '/console/end-session',
        hiddenFields(page.body, '/console/end-session'),
      );
      expect(done.statusCode).toBe(200);
      expect(done.body).toContain('You are signed out');
      expect(await stillSignedIn(browser)).toBe(false);
    });

    it('asks for confirmation when the hint names another user than the signed-in one', async () => {
      const member = await signedIn(ctx.app, 'member@a.test');
      const memberHint = await idTokenOf(ctx.app, member, client);
      const owner = await signedIn(ctx.app, 'owner@a.test');
      const res = await owner.get(
        endSessionUrl({ id_token_hint: memberHint, post_logout_redirect_uri: SIGNED_OUT }),
      );
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('Sign out of Gatehouse?');
      expect(await stillSignedIn(owner)).toBe(true);
      expect(await stillSignedIn(member)).toBe(true);
    });

    it('asks for confirmation when the hint is of an earlier session of the same user (sid differs)', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      expect(decodePart(hint, 1).sid).toEqual(expect.any(String));
      // A new sign-in in the same browser: a new session, with a new sid.
      expect((await browser.signIn('owner@a.test', PASSWORD)).statusCode).toBe(303);
      const res = await browser.get(endSessionUrl({ id_token_hint: hint }));
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('Sign out of Gatehouse?');
      expect(await stillSignedIn(browser)).toBe(true);
    });

    it('without a session, has nothing to end: straight back to a validated URI, or the signed-out page', async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      const anonymous = new Browser(ctx.app);
      const back = await anonymous.get(
        endSessionUrl({ id_token_hint: hint, post_logout_redirect_uri: SIGNED_OUT, state: 's' }),
      );
      expect(back.statusCode).toBe(303);
      expect(back.headers.location).toBe(`${SIGNED_OUT}?state=s`);
      const page = await anonymous.get(endSessionUrl({ client_id: client.publicKey }));
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('You are signed out');
      // Still validated without a session: no open redirect for anyone.
      expectErrorPage(
        await anonymous.get(
          endSessionUrl({ client_id: client.publicKey, post_logout_redirect_uri: 'https://evil.example/' }),
        ),
      );
      // The signed-in browser elsewhere is untouched.
      expect(await stillSignedIn(browser)).toBe(true);
    });

    it("a forged session cookie beside a genuine hint ends no one's session", async () => {
      const browser = await signedIn(ctx.app, 'owner@a.test');
      const hint = await idTokenOf(ctx.app, browser, client);
      const jar: CookieJar = browser.jar;
      const forged = await ctx.app.inject({
        url: endSessionUrl({ id_token_hint: hint }),
        headers: { cookie: 'gatehouse-session=gss_forged' },
      });
      // No live session behind that cookie: nothing to end, the signed-out page.
      expect(forged.statusCode).toBe(200);
      expect(jar.cookies.has(SESSION_COOKIE)).toBe(true);
      expect(await stillSignedIn(browser)).toBe(true);
    });
  },
);
