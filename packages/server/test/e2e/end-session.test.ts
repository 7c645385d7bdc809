import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, type IssuedApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import {
  cspViolations,
  expectAccessible,
  expectNoHorizontalScroll,
  HAS_CHROMIUM,
  launchChromium,
  newContext,
  PHONE,
  SKIP_REASON,
  signInAs,
} from '../helpers/console-browser.ts';
import { basicAuth, type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { PASSWORD, seed } from '../helpers/seed.ts';
import { DIALECTS, type DialectName, POSTGRES_URL } from '../helpers/test-app.ts';

/**
 * The relying party: a second server on another port. Its /callback receives the authorization
 * response, its /signed-out page the end of the logout, and its /logout page holds a form that posts
 * a logout request to Gatehouse, as an app's "Sign out" button does.
 */
async function relyingParty(issuer: string) {
  const received: URL[] = [];
  let logoutForm: Record<string, string> = {};
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    received.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    if (url.pathname === '/logout') {
      const fields = Object.entries(logoutForm)
        .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
        .join('');
      res.end(
        `<!doctype html><title>Example app</title><form method="post" action="${issuer}/connect/endsession">${fields}<button>Sign out of Example app</button></form>`,
      );
      return;
    }
    const heading = url.pathname === '/signed-out' ? 'Signed out of Example app' : 'Example app';
    res.end(`<!doctype html><title>Example app</title><h1>${heading}</h1>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    received,
    /** The logout form's fields, for the next load of /logout. */
    setLogoutForm(fields: Record<string, string>) {
      logoutForm = fields;
    },
  };
}

function suite(dialect: DialectName) {
  const run = HAS_CHROMIUM && (dialect === 'sqlite' || POSTGRES_URL !== null) ? describe : describe.skip;
  run(`RP-initiated logout in real Chromium [${dialect}]${SKIP_REASON}`, () => {
    let app: ListeningTestApp;
    let browser: Browser;
    let rp: Awaited<ReturnType<typeof relyingParty>>;
    let key: IssuedApiKey;
    let redirectUri: string;
    let signedOutUri: string;

    beforeAll(async () => {
      app = await listenTestApp(dialect);
      const s = await seed(app.app.services.db);
      rp = await relyingParty(app.issuer);
      redirectUri = `http://127.0.0.1:${rp.port}/callback`;
      signedOutUri = `http://127.0.0.1:${rp.port}/signed-out`;
      key = await createApiKey(
        app.app.services.db,
        {
          tenantId: s.a.tenantId,
          label: 'Example app',
          redirectUris: [redirectUri],
          postLogoutRedirectUris: [signedOutUri],
        },
        CLI_ACTOR,
      );
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      rp?.server.close();
      await app?.close();
    });

    /** Signs in and runs the code flow with `openid` in `page`; returns the ID token the app receives. */
    async function signInWithOpenId(page: Page): Promise<string> {
      await signInAs(page, app.issuer, 'owner@a.test', PASSWORD, '/console');
      await page.goto(
        `${app.issuer}/connect/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: key.key.publicKey,
          redirect_uri: redirectUri,
          scope: 'openid email',
          state: 'sign-in',
        })}`,
      );
      const allow = page.getByRole('button', { name: 'Allow' });
      if (await allow.isVisible()) await allow.click();
      await page.waitForURL((url) => url.href.startsWith(redirectUri));
      const code = new URL(page.url()).searchParams.get('code') as string;
      const res = await fetch(`${app.issuer}/connect/token`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(key.key.publicKey, key.privateKey),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
      });
      expect(res.status).toBe(200);
      const { id_token: idToken } = (await res.json()) as { id_token?: string };
      expect(idToken).toEqual(expect.any(String));
      return idToken as string;
    }

    /** Whether the browser's Gatehouse session still opens the console. */
    async function signedIn(page: Page): Promise<boolean> {
      await page.goto(`${app.issuer}/console`);
      return !new URL(page.url()).pathname.startsWith('/console/sign-in');
    }

    async function withPage(test: (page: Page, context: BrowserContext) => Promise<void>) {
      const context = await newContext(browser);
      try {
        await test(await context.newPage(), context);
      } finally {
        await context.close();
      }
    }

    it('a valid id_token_hint ends the session at once and lands on the registered URI with state', async () => {
      await withPage(async (page, context) => {
        const violations = cspViolations(page);
        const idToken = await signInWithOpenId(page);
        await page.goto(
          `${app.issuer}/connect/endsession?${new URLSearchParams({
            id_token_hint: idToken,
            post_logout_redirect_uri: signedOutUri,
            state: 'bye-1',
          })}`,
        );
        await page.waitForURL((url) => url.href.startsWith(signedOutUri));
        expect(page.url()).toBe(`${signedOutUri}?state=bye-1`);
        expect(await page.getByRole('heading').textContent()).toBe('Signed out of Example app');
        const cookies = await context.cookies(app.issuer);
        expect(cookies.find((c) => c.name === 'gatehouse-session')).toBeUndefined();
        expect(await signedIn(page)).toBe(false);
        expect(violations).toEqual([]);
      });
    });

    it('without a hint, asks "Sign out of Gatehouse?" and signs out on the button, then goes back to the app', async () => {
      await withPage(async (page) => {
        const violations = cspViolations(page);
        await signInAs(page, app.issuer, 'owner@a.test', PASSWORD, '/console');
        await page.goto(
          `${app.issuer}/connect/endsession?${new URLSearchParams({
            client_id: key.key.publicKey,
            post_logout_redirect_uri: signedOutUri,
            state: 'bye-2',
          })}`,
        );
        await expect(page.getByRole('heading', { name: 'Sign out of Gatehouse?' }).isVisible()).resolves.toBe(
          true,
        );
        expect(await page.locator('main').textContent()).toContain('Example app');
        // The form's redirect to the app's origin is allowed by the page's form-action.
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.waitForURL((url) => url.href.startsWith(signedOutUri));
        expect(page.url()).toBe(`${signedOutUri}?state=bye-2`);
        expect(await signedIn(page)).toBe(false);
        expect(violations).toEqual([]);
      });
    });

    it("a logout form posted from the app's own page (no SameSite=Lax cookie on a cross-site POST) still ends the session", async () => {
      await withPage(async (page) => {
        const idToken = await signInWithOpenId(page);
        rp.setLogoutForm({ id_token_hint: idToken, post_logout_redirect_uri: signedOutUri, state: 'bye-3' });
        const hops: string[] = [];
        page.on('response', (response) => {
          const url = new URL(response.url());
          if (url.pathname === '/connect/endsession')
            hops.push(
              `${response.request().method()} ${response.status()} ${response.headers().location ?? ''}`,
            );
        });
        // `localhost` and `127.0.0.1` are different sites: the post is cross-site, as from a real app.
        await page.goto(`http://localhost:${rp.port}/logout`);
        await page.getByRole('button', { name: 'Sign out of Example app' }).click();
        await page.waitForURL((url) => url.href.startsWith(signedOutUri));
        expect(page.url()).toBe(`${signedOutUri}?state=bye-3`);
        // The POST came without the session cookie and was repeated as a GET, which carried it.
        expect(hops).toEqual([
          expect.stringMatching(/^POST 303 \/connect\/endsession\?id_token_hint=/),
          `GET 303 ${signedOutUri}?state=bye-3`,
        ]);
        expect(await signedIn(page)).toBe(false);
      });
    });

    it('the confirmation and signed-out pages are accessible and fit a phone', async () => {
      // axe is injected, so this context bypasses the CSP (the other tests check the CSP).
      const context = await newContext(browser, { viewport: PHONE, axe: true });
      try {
        const page = await context.newPage();
        await signInAs(page, app.issuer, 'owner@a.test', PASSWORD, '/console');
        await page.goto(`${app.issuer}/connect/endsession?client_id=${key.key.publicKey}`);
        await page.getByRole('heading', { name: 'Sign out of Gatehouse?' }).waitFor();
        await expectAccessible(page);
        await expectNoHorizontalScroll(page);
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
        await expectAccessible(page);
        await expectNoHorizontalScroll(page);
      } finally {
        await context.close();
      }
    });

    it('an unregistered post_logout_redirect_uri shows an error page, redirects nowhere, and leaves the session', async () => {
      await withPage(async (page) => {
        const violations = cspViolations(page);
        const idToken = await signInWithOpenId(page);
        const before = rp.received.length;
        const response = await page.goto(
          `${app.issuer}/connect/endsession?${new URLSearchParams({
            id_token_hint: idToken,
            post_logout_redirect_uri: `http://127.0.0.1:${rp.port}/elsewhere`,
          })}`,
        );
        expect(response?.status()).toBe(400);
        expect(new URL(page.url()).origin).toBe(app.issuer);
        expect(await page.locator('main').textContent()).toContain('not registered');
        expect(rp.received.length).toBe(before);
        expect(await signedIn(page)).toBe(true);
        expect(violations).toEqual([]);
      });
    });
  });
}

for (const dialect of DIALECTS) suite(dialect);
