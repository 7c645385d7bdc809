import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, type IssuedApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import {
  cspViolations,
  DESKTOP,
  HAS_CHROMIUM,
  launchChromium,
  newContext,
  SKIP_REASON,
} from '../helpers/console-browser.ts';
import { type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { PASSWORD, type Seed, seed } from '../helpers/seed.ts';
import { OAUTH_ENV } from '../oauth/oauth-helpers.ts';

/**
 * Where the screenshot of the page goes: `GATEHOUSE_SCREENSHOTS=docs/screenshots` (from the repository
 * root) refreshes the README's; otherwise a temporary folder, so that a test run changes no file.
 */
const SCREENSHOTS = process.env.GATEHOUSE_SCREENSHOTS
  ? resolve(process.env.GATEHOUSE_SCREENSHOTS)
  : join(tmpdir(), 'gatehouse-screenshots');

const run = HAS_CHROMIUM ? describe : describe.skip;

run(`Swagger UI at /swagger/index.html in real Chromium${SKIP_REASON}`, () => {
  let server: ListeningTestApp;
  let browser: Browser;
  let s: Seed;
  /** A key whose redirect URLs include Swagger UI's OAuth2 pop-up page. */
  let app: IssuedApiKey;

  beforeAll(async () => {
    server = await listenTestApp('sqlite', OAUTH_ENV);
    s = await seed(server.app.services.db);
    app = await createApiKey(
      server.app.services.db,
      {
        tenantId: s.a.tenantId,
        label: 'Swagger UI',
        redirectUris: [`${server.issuer}/swagger/static/oauth2-redirect.html`],
      },
      CLI_ACTOR,
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh page on the reference, with what it breaks of its CSP and every request it sends elsewhere. */
  async function openReference(path = '/swagger/index.html', origin = server.issuer) {
    const context = await newContext(browser, { viewport: DESKTOP });
    const page = await context.newPage();
    const violations = cspViolations(page);
    const elsewhere: string[] = [];
    context.on('request', (request) => {
      if (new URL(request.url()).origin !== origin && !request.url().startsWith('data:'))
        elsewhere.push(request.url());
    });
    const response = await page.goto(`${origin}${path}`);
    await page.locator('.swagger-ui .info .title').waitFor();
    await page.locator('#operations-Workspaces-get_v1_workspaces').waitFor();
    return { context, page, response, violations, elsewhere };
  }

  /** The Authorize dialog's block of one scheme (and flow), e.g. `apiKey` or `clientCredentials`. */
  async function authorizeBlock(page: Page, heading: RegExp): Promise<Locator> {
    await page.locator('.scheme-container .btn.authorize').click();
    const block = page.locator('.auth-container').filter({ has: page.locator('h4', { hasText: heading }) });
    await block.waitFor();
    return block;
  }

  /** "Try it out" then "Execute" on `GET /v1/workspaces`: the status and body Swagger UI shows. */
  async function tryListingWorkspaces(page: Page): Promise<{ status: string; body: string }> {
    const operation = page.locator('#operations-Workspaces-get_v1_workspaces');
    await operation.locator('.opblock-summary').first().click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const live = operation.locator('.live-responses-table .response').first();
    await live.waitFor();
    return {
      status: (await live.locator('.response-col_status').textContent())?.trim() ?? '',
      body: (await live.locator('.response-col_description').textContent()) ?? '',
    };
  }

  it('is Swagger UI itself at /swagger/index.html, named Gatehouse, served from this server alone', async () => {
    // A server whose public URL is the README's, so that the screenshot shows what a reader will see.
    const shown = await listenTestApp('sqlite', { GATEHOUSE_ISSUER: 'http://127.0.0.1:8080' });
    const origin = `http://127.0.0.1:${shown.port}`;
    const { context, page, response, violations, elsewhere } = await openReference(
      '/swagger/index.html',
      origin,
    );
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${origin}/swagger/index.html`);
    expect(await page.title()).toBe('Gatehouse API');
    expect(await page.locator('.gatehouse-brand').textContent()).toContain('Gatehouse API');
    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('Gatehouse API');
    // None of the stock branding: no Swagger top bar, logo or favicon.
    expect(await page.locator('.topbar').count()).toBe(0);
    const html = await page.content();
    expect(html).not.toMatch(/favicon-32x32|logo\.svg|Swagger UI<\/title>/);
    expect(violations).toEqual([]);
    expect(elsewhere).toEqual([]);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'swagger-ui-desktop.png') });
    await context.close();
    await shown.close();
  });

  it('/swagger redirects to /swagger/index.html', async () => {
    const { context, page } = await openReference('/swagger');
    expect(page.url()).toBe(`${server.issuer}/swagger/index.html`);
    await context.close();
  });

  it('Authorize with an API key, then Try it out on GET /v1/workspaces answers 200', async () => {
    const { context, page, violations } = await openReference();
    const block = await authorizeBlock(page, /^apiKey/);
    await block.locator('input').fill(s.orgKeyA.privateKey);
    await block.locator('button.authorize').click();
    await block.locator('button', { hasText: 'Logout' }).waitFor();
    await page.locator('.modal-ux .close-modal').click();
    const sent = page.waitForRequest((request) => new URL(request.url()).pathname === '/v1/workspaces');
    const { status, body } = await tryListingWorkspaces(page);
    expect((await sent).headers()['x-api-key']).toBe(s.orgKeyA.privateKey);
    expect(status).toBe('200');
    expect(body).toContain('"label": "Main"');
    expect(violations).toEqual([]);
    await context.close();
  });

  it('Authorize with client credentials, then Try it out on GET /v1/workspaces answers 200 with the token', async () => {
    const { context, page, violations } = await openReference();
    const block = await authorizeBlock(page, /clientCredentials/);
    await block.getByLabel('client_id:').fill(app.key.publicKey);
    await block.getByLabel('client_secret:').fill(app.privateKey);
    const tokenRequest = page.waitForRequest(
      (request) => new URL(request.url()).pathname === '/connect/token',
    );
    await block.locator('button.authorize').click();
    expect((await tokenRequest).postData()).toContain('grant_type=client_credentials');
    await block.locator('button', { hasText: 'Logout' }).waitFor();
    await page.locator('.modal-ux .close-modal').click();
    const sent = page.waitForRequest((request) => new URL(request.url()).pathname === '/v1/workspaces');
    const { status, body } = await tryListingWorkspaces(page);
    expect((await sent).headers().authorization).toMatch(/^Bearer ey/);
    expect(status).toBe('200');
    expect(body).toContain('"label": "Main"');
    expect(violations).toEqual([]);
    await context.close();
  });

  it('Authorize with the authorization code flow (sign-in, consent, PKCE), then Try it out answers 200 for the person', async () => {
    const { context, page, violations } = await openReference();
    const block = await authorizeBlock(page, /authorizationCode/);
    await block.getByLabel('client_id:').fill(app.key.publicKey);
    await block.getByLabel('client_secret:').fill(app.privateKey);
    const popup = context.waitForEvent('page');
    await block.locator('button.authorize').click();
    const signIn = await popup;
    await signIn.getByLabel('Email').fill('owner@a.test');
    await signIn.getByLabel('Password').fill(PASSWORD);
    const tokenRequest = page.waitForRequest(
      (request) => new URL(request.url()).pathname === '/connect/token',
    );
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await signIn.getByRole('button', { name: 'Allow' }).click();
    // The pop-up lands on oauth2-redirect.html, hands the code to the page and closes itself.
    const exchange = await tokenRequest;
    expect(exchange.postData()).toMatch(/grant_type=authorization_code/);
    expect(exchange.postData()).toMatch(/code_verifier=[\w-]{43,}/);
    await block.locator('button', { hasText: 'Logout' }).waitFor();
    await page.locator('.modal-ux .close-modal').click();
    const sent = page.waitForRequest((request) => new URL(request.url()).pathname === '/v1/workspaces');
    const { status, body } = await tryListingWorkspaces(page);
    const bearer = (await sent).headers().authorization ?? '';
    expect(status).toBe('200');
    expect(body).toContain('"label": "Main"');
    const me = await fetch(`${server.issuer}/me`, { headers: { authorization: bearer } });
    expect(await me.json()).toMatchObject({ authMethod: 'bearer', user: { email: 'owner@a.test' } });
    expect(violations).toEqual([]);
    await context.close();
  });
});
