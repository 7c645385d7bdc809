import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreatedApiKey, createApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { findRefreshToken } from '../../src/domain/refresh-tokens.ts';
import {
  cspViolations,
  HAS_CHROMIUM,
  launchChromium,
  newContext,
  SKIP_REASON,
} from '../helpers/console-browser.ts';
import { type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { PASSWORD, seed } from '../helpers/seed.ts';
import { DIALECTS, type DialectName, POSTGRES_URL } from '../helpers/test-app.ts';

/**
 * The single-page app's script, served as a same-origin file (its CSP allows no inline script). It is
 * what a real SPA does (DESIGN.md 1 "Client type"): PKCE S256 with WebCrypto, the authorization code
 * flow, then `fetch` to /connect/token with its client_id alone (CORS) and to /me with the token.
 */
const SPA_SCRIPT = `
const config = document.body.dataset;
const result = document.getElementById('result');
const show = (value) => {
  result.textContent = JSON.stringify(value);
  result.dataset.done = 'true';
};
const base64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const random = (bytes) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

async function signIn() {
  const verifier = random(32);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = random(16);
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state }));
  const url = new URL('/connect/authorize', config.issuer);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: 'api1 offline_access',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.href);
}

async function finishSignIn(params) {
  const saved = JSON.parse(sessionStorage.getItem('pkce') || 'null');
  sessionStorage.removeItem('pkce');
  if (!saved || params.get('state') !== saved.state) return show({ error: 'state mismatch' });
  if (params.get('iss') !== config.issuer) return show({ error: 'iss mismatch' });
  if (params.has('error')) return show({ error: params.get('error') });
  const tokenResponse = await fetch(new URL('/connect/token', config.issuer), {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: config.redirectUri,
      client_id: config.clientId,
      code_verifier: saved.verifier,
    }),
  });
  const tokens = await tokenResponse.json();
  if (!tokenResponse.ok) return show({ step: 'token', status: tokenResponse.status, body: tokens });
  sessionStorage.setItem('refresh_token', tokens.refresh_token);
  const me = await fetch(new URL('/me', config.issuer), {
    headers: { authorization: 'Bearer ' + tokens.access_token },
  });
  show({ step: 'me', status: me.status, scope: tokens.scope, me: await me.json() });
}

document.getElementById('sign-in').addEventListener('click', () => void signIn());
const params = new URLSearchParams(location.search);
if (params.has('code') || params.has('error')) void finishSignIn(params);
`;

/** The page of an origin: its configuration in data attributes, its script from its own origin. */
function page(data: Record<string, string>): string {
  const attributes = Object.entries(data)
    .map(([name, value]) => ` data-${name}="${value}"`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example SPA</title></head><body${attributes}><h1>Example SPA</h1><button id="sign-in" type="button">Sign in with Gatehouse</button><pre id="result"></pre><script src="/app.js"></script></body></html>`;
}

interface StaticOrigin {
  server: Server;
  origin: string;
}

/**
 * A static server on its own loopback port (so its own origin), with a strict CSP that lets its script
 * call only Gatehouse: what fails there fails by CORS, not by the page's own policy.
 */
async function staticOrigin(issuer: string, html: (origin: string) => string): Promise<StaticOrigin> {
  let origin = '';
  const csp = `default-src 'none'; script-src 'self'; connect-src ${issuer}; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    if (path === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(SPA_SCRIPT);
    } else if (path === '/' || path === '/callback') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': csp,
        'cache-control': 'no-store',
      });
      res.end(html(origin));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, origin };
}

/** Runs a token request from the page's origin; what the page's script could read, or the fetch's failure. */
function tokenFetchFrom(page: Page, issuer: string, form: Record<string, string>) {
  // A string, evaluated in the page: the server's TypeScript has no DOM types.
  return page.evaluate(`(async () => {
    try {
      const res = await fetch(${JSON.stringify(`${issuer}/connect/token`)}, {
        method: 'POST',
        body: new URLSearchParams(${JSON.stringify(form)}),
      });
      return { read: true, status: res.status, body: await res.json() };
    } catch (error) {
      return { read: false, failure: String(error) };
    }
  })()`) as Promise<
    { read: true; status: number; body: Record<string, string> } | { read: false; failure: string }
  >;
}

function suite(dialect: DialectName) {
  const run = HAS_CHROMIUM && (dialect === 'sqlite' || POSTGRES_URL !== null) ? describe : describe.skip;
  run(`single-page app as a public client, in real Chromium [${dialect}]${SKIP_REASON}`, () => {
    let gatehouse: ListeningTestApp;
    let browser: Browser;
    let spa: StaticOrigin;
    let evil: StaticOrigin;
    let key: CreatedApiKey;

    beforeAll(async () => {
      gatehouse = await listenTestApp(dialect);
      const issuer = gatehouse.issuer;
      const s = await seed(gatehouse.app.services.db);
      // The key is created once the SPA's origin is known; the page reads its client_id when served.
      let clientId = '';
      spa = await staticOrigin(issuer, (origin) =>
        page({ issuer, 'client-id': clientId, 'redirect-uri': `${origin}/callback` }),
      );
      evil = await staticOrigin(issuer, () => page({ issuer }));
      key = await createApiKey(
        gatehouse.app.services.db,
        {
          tenantId: s.a.tenantId,
          label: 'Example SPA',
          clientType: 'public',
          redirectUris: [`${spa.origin}/callback`],
          corsOrigins: [spa.origin],
        },
        CLI_ACTOR,
      );
      clientId = key.key.publicKey;
      await gatehouse.app.services.origins.refresh();
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      spa?.server.close();
      evil?.server.close();
      await gatehouse?.close();
    });

    it('signs in from another origin, exchanges the code by fetch with client_id alone, and calls /me; another origin cannot read the token endpoint', async () => {
      const issuer = gatehouse.issuer;
      const context = await newContext(browser);
      const tab = await context.newPage();
      const violations = cspViolations(tab);
      const responses: Response[] = [];
      tab.on('response', (response) => responses.push(response));

      await tab.goto(`${spa.origin}/`);
      await tab.getByRole('button', { name: 'Sign in with Gatehouse' }).click();
      await tab.waitForURL((url) => url.href.startsWith(`${issuer}/`));
      await tab.getByLabel('Email').fill('owner@a.test');
      await tab.getByLabel('Password').fill(PASSWORD);
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.getByRole('button', { name: 'Allow' }).click();
      await tab.waitForURL((url) => url.href.startsWith(`${spa.origin}/callback?`));
      await tab.locator('#result[data-done="true"]').waitFor();

      const shown = JSON.parse((await tab.locator('#result').textContent()) ?? '{}');
      expect(shown).toMatchObject({
        step: 'me',
        status: 200,
        scope: 'api1 offline_access',
        me: {
          authMethod: 'bearer',
          apiKey: { publicKey: key.key.publicKey, label: 'Example SPA' },
          user: { email: 'owner@a.test' },
        },
      });
      // The token request was a cross-origin fetch answered with CORS for the SPA's origin only.
      const token = responses.find((r) => r.url() === `${issuer}/connect/token`);
      expect(token?.status()).toBe(200);
      const sent = await token?.request().allHeaders();
      expect(sent?.origin).toBe(spa.origin);
      expect(sent?.authorization).toBeUndefined();
      expect(await token?.headerValue('access-control-allow-origin')).toBe(spa.origin);
      const me = responses.find((r) => r.url() === `${issuer}/me` && r.request().method() === 'GET');
      expect(await me?.headerValue('access-control-allow-origin')).toBe(spa.origin);
      expect(violations).toEqual([]);

      // From the SPA's origin, a refresh with client_id alone is readable by its script.
      const refreshToken = (await tab.evaluate("sessionStorage.getItem('refresh_token')")) as string;
      expect(refreshToken).toMatch(/^grt_/);
      const refreshed = await tokenFetchFrom(tab, issuer, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: key.key.publicKey,
      });
      expect(refreshed).toMatchObject({ read: true, status: 200, body: { token_type: 'Bearer' } });
      const latest = (refreshed as { body: Record<string, string> }).body.refresh_token as string;

      // The same fetch from an origin the key does not allow: the server answers without CORS headers,
      // so the browser keeps the answer from the page's script.
      const other = await context.newPage();
      const otherConsole: string[] = [];
      other.on('console', (message) => otherConsole.push(message.text()));
      await other.goto(`${evil.origin}/`);
      const blocked = await tokenFetchFrom(other, issuer, {
        grant_type: 'refresh_token',
        refresh_token: latest,
        client_id: key.key.publicKey,
      });
      expect(blocked).toEqual({ read: false, failure: 'TypeError: Failed to fetch' });
      expect(otherConsole.join('\n')).toMatch(
        new RegExp(
          `from origin '${evil.origin}' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header`,
        ),
      );
      // CORS does not stop the request: Gatehouse answered it (the token rotated), the browser withheld the answer.
      const record = await findRefreshToken(gatehouse.app.services.db, latest);
      expect(record?.rotatedAt).not.toBeNull();
      await context.close();
    });

    it('shows the SPA the error of a public client without PKCE, sent back to its redirect URI', async () => {
      const context = await newContext(browser);
      const tab = await context.newPage();
      const redirectUri = `${spa.origin}/callback`;
      await tab.goto(
        `${gatehouse.issuer}/connect/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: key.key.publicKey,
          redirect_uri: redirectUri,
          scope: 'api1',
          state: 'no-pkce',
        })}`,
      );
      await tab.waitForURL((url) => url.href.startsWith(`${redirectUri}?`));
      const landed = new URL(tab.url());
      expect(landed.searchParams.get('error')).toBe('invalid_request');
      expect(landed.searchParams.get('code')).toBeNull();
      await context.close();
    });
  });
}

for (const dialect of DIALECTS) suite(dialect);
