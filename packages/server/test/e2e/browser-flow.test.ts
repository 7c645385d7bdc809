import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, type IssuedApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { basicAuth, type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { PASSWORD, seed } from '../helpers/seed.ts';
import { DIALECTS, type DialectName, POSTGRES_URL } from '../helpers/test-app.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const HAS_POSTGRES = POSTGRES_URL !== null;

/** The third-party app: a loopback HTTP server whose /callback receives the authorization response. */
async function clientApp(): Promise<{ server: Server; port: number; received: URL[] }> {
  const received: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/callback') received.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Example app</title><h1>Signed in to Example app</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

function suite(dialect: DialectName) {
  const run = HAS_CHROMIUM && (dialect === 'sqlite' || HAS_POSTGRES) ? describe : describe.skip;
  const reason = HAS_CHROMIUM ? '' : ` [skipped: ${CHROMIUM} is absent; CI installs Debian's chromium]`;
  run(`authorization code flow in real Chromium [${dialect}]${reason}`, () => {
    let server: ListeningTestApp;
    let browser: Browser;
    let client: Awaited<ReturnType<typeof clientApp>>;
    let issuer: string;
    let key: IssuedApiKey;

    beforeAll(async () => {
      // The issuer (and so `iss`) names the port the server really listens on.
      server = await listenTestApp(dialect);
      issuer = server.issuer;
      const s = await seed(server.app.services.db);
      client = await clientApp();
      key = await createApiKey(
        server.app.services.db,
        {
          tenantId: s.a.tenantId,
          label: 'Example app',
          redirectUris: [`http://127.0.0.1:${client.port}/callback`],
        },
        CLI_ACTOR,
      );
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      client?.server.close();
      await server?.close();
    });

    it('signs a person in, asks consent, lands on the callback with a code the app exchanges for /me', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      const redirectUri = `http://127.0.0.1:${client.port}/callback`;
      const authorizeUrl = `${issuer}/connect/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: key.key.publicKey,
        redirect_uri: redirectUri,
        scope: 'api1 offline_access',
        state: 'e2e-state',
      })}`;

      page.setDefaultTimeout(10_000);
      await page.goto(authorizeUrl);
      await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
      await page.getByLabel('Email').fill('owner@a.test');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();

      await page.getByRole('button', { name: 'Allow' }).waitFor();
      const consent = await page.locator('main').textContent();
      expect(consent).toContain('Example app');
      expect(consent).toContain('Tenant A');
      expect(consent).toContain('offline_access');
      await page.getByRole('button', { name: 'Allow' }).click();

      await page.waitForURL((url) => url.href.startsWith(redirectUri));
      expect(await page.getByRole('heading').textContent()).toBe('Signed in to Example app');
      const callback = client.received.at(-1) as URL;
      expect(callback.searchParams.get('state')).toBe('e2e-state');
      expect(callback.searchParams.get('iss')).toBe(issuer);
      const code = callback.searchParams.get('code') as string;
      expect(code).toMatch(/^gac_/);
      expect(violations).toEqual([]);

      const cookies = await context.cookies(issuer);
      const session = cookies.find((c) => c.name === 'gatehouse-session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

      const token = await fetch(`${issuer}/connect/token`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(key.key.publicKey, key.privateKey),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
      });
      expect(token.status).toBe(200);
      const tokens = (await token.json()) as { access_token: string; refresh_token: string; scope: string };
      expect(tokens.scope).toBe('api1 offline_access');
      expect(tokens.refresh_token).toMatch(/^grt_/);
      const me = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({
        authMethod: 'bearer',
        apiKey: { publicKey: key.key.publicKey, label: 'Example app' },
        user: { email: 'owner@a.test', role: 'owner' },
      });

      // Consent is remembered: a second authorization goes straight back to the app.
      await page.goto(authorizeUrl.replace('e2e-state', 'second'));
      await page.waitForURL((url) => url.href.startsWith(redirectUri));
      expect(client.received.at(-1)?.searchParams.get('state')).toBe('second');
      await context.close();

      // Another browser, no session: signing in leads straight on to the app (consent remembered),
      // through two 303s after the sign-in form, which its CSP form-action must allow.
      const second = await browser.newContext();
      const page2 = await second.newPage();
      page2.setDefaultTimeout(10_000);
      page2.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await page2.goto(authorizeUrl.replace('e2e-state', 'third'));
      await page2.getByLabel('Email').fill('owner@a.test');
      await page2.getByLabel('Password').fill(PASSWORD);
      await page2.getByRole('button', { name: 'Sign in' }).click();
      await page2.waitForURL((url) => url.href.startsWith(redirectUri));
      expect(client.received.at(-1)?.searchParams.get('state')).toBe('third');
      expect(violations).toEqual([]);
      await second.close();
    });

    it('sends the person back with error=access_denied when they click Deny', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const redirectUri = `http://127.0.0.1:${client.port}/callback`;
      await page.goto(
        `${issuer}/connect/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: key.key.publicKey,
          redirect_uri: redirectUri,
          scope: 'api1',
          state: 'deny-state',
          prompt: 'consent',
        })}`,
      );
      await page.getByLabel('Email').fill('owner@a.test');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Deny' }).click();
      await page.waitForURL((url) => url.href.startsWith(redirectUri));
      const callback = client.received.at(-1) as URL;
      expect(Object.fromEntries(callback.searchParams)).toEqual({
        error: 'access_denied',
        error_description: 'the user denied the request',
        state: 'deny-state',
        iss: issuer,
      });
      await context.close();
    });
  });
}

for (const dialect of DIALECTS) suite(dialect);
