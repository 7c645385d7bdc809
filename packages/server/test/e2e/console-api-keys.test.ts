import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { PASSWORD, type Seed, seed } from '../helpers/seed.ts';
import { DIALECTS, type DialectName, POSTGRES_URL } from '../helpers/test-app.ts';

const PRIVATE_KEY = /gsk_[0-9A-Za-z]{49}/;
const PUBLIC_KEY = /gpk_[0-9A-Za-z]{24}/;

/** A person's key, made by clicking through the new-key form; the page is left on the key's page. */
async function createKeyByClicking(
  page: Page,
  label: string,
): Promise<{ publicKey: string; privateKey: string }> {
  await page.getByRole('link', { name: 'Create an API key' }).first().click();
  await page.getByRole('heading', { name: 'Create an API key', level: 1 }).waitFor();
  await page.getByLabel('Label').fill(label);
  await page
    .getByLabel('Redirect URLs', { exact: true })
    .fill('https://dashboard.example/callback\nhttp://127.0.0.1:5173/callback');
  await page.getByLabel('Allowed CORS origins').fill('https://dashboard.example');
  await page.getByRole('radio', { name: /^Read GET only/ }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('heading', { name: 'Your private key' }).waitFor();
  const publicKey = PUBLIC_KEY.exec(page.url())?.[0];
  const privateKey = (await page.locator('#private-key').textContent())?.trim();
  expect(publicKey).toBeDefined();
  expect(privateKey).toMatch(PRIVATE_KEY);
  return { publicKey: publicKey as string, privateKey: privateKey as string };
}

function suite(dialect: DialectName) {
  const run = HAS_CHROMIUM && (dialect === 'sqlite' || POSTGRES_URL !== null) ? describe : describe.skip;
  run(`console API configuration in real Chromium [${dialect}]${SKIP_REASON}`, () => {
    let server: ListeningTestApp;
    let browser: Browser;
    let issuer: string;
    let s: Seed;
    const me = (privateKey: string) => fetch(`${issuer}/me`, { headers: { 'x-api-key': privateKey } });
    const keysOfA = () => `${issuer}/o/${s.a.tenantId}/api-keys`;

    /** A signed-in owner's browser context (`axe` bypasses the CSP to inject the checker). */
    async function ownerContext(
      options: Parameters<typeof newContext>[1] = {},
    ): Promise<{ context: BrowserContext; page: Page }> {
      const context = await newContext(browser, options);
      const page = await context.newPage();
      await signInAs(page, issuer, 'owner@a.test', PASSWORD);
      await page.waitForURL(keysOfA());
      return { context, page };
    }

    beforeAll(async () => {
      server = await listenTestApp(dialect);
      issuer = server.issuer;
      s = await seed(server.app.services.db);
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('signs an owner in at / onto the API configuration, creates a key by clicking, copies the private key shown once, and uses it', async () => {
      const context = await newContext(browser);
      const page = await context.newPage();
      const violations = cspViolations(page);
      await signInAs(page, issuer, 'owner@a.test', PASSWORD);
      await page.waitForURL(keysOfA());
      await page.getByRole('heading', { name: 'API configuration', level: 1 }).waitFor();
      expect(await page.locator('main').textContent()).toContain('A org key');

      const { privateKey } = await createKeyByClicking(page, 'E2E dashboard');
      // The script (under the page's CSP) shows the copy button; without it the key is still selectable.
      const copy = page.getByRole('button', { name: 'Copy the private key' });
      await expect(copy.isVisible()).resolves.toBe(true);
      await copy.click();
      // The button says so once the clipboard took it (asynchronously), then goes back to "Copy".
      await page.waitForFunction(
        "document.querySelector('button[data-copy=\"private-key\"]').textContent === 'Copied'",
      );
      await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(privateKey);

      const res = await me(privateKey);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ apiKey: { label: 'E2E dashboard' }, permissions: 'read' });

      await page.reload();
      await page.getByRole('heading', { name: 'E2E dashboard', level: 1 }).waitFor();
      expect(await page.locator('#private-key').count()).toBe(0);
      expect(await page.content()).not.toContain(privateKey);
      expect(violations).toEqual([]);
      await context.close();
    });

    it('shows a wrong redirect URL line beside the field with the typed text kept, then saves the corrected one', async () => {
      const { context, page } = await ownerContext();
      const violations = cspViolations(page);
      await createKeyByClicking(page, 'E2E settings');
      const typed = 'https://dashboard.example/callback\nnot a url';
      await page.getByLabel('Redirect URLs', { exact: true }).fill(typed);
      await page.getByRole('button', { name: 'Save changes' }).click();
      const error = page.locator('#redirectUris-error');
      await error.waitFor();
      expect(await error.textContent()).toBe('Line 2: redirect URI is not an absolute URL: not a url');
      await expect(page.getByLabel('Redirect URLs', { exact: true }).inputValue()).resolves.toBe(typed);
      await expect(
        page.getByLabel('Redirect URLs', { exact: true }).getAttribute('aria-invalid'),
      ).resolves.toBe('true');

      await page.getByLabel('Redirect URLs', { exact: true }).fill('https://dashboard.example/v2/callback');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved. The new settings apply at once.').waitFor();
      await expect(page.getByLabel('Redirect URLs', { exact: true }).inputValue()).resolves.toBe(
        'https://dashboard.example/v2/callback',
      );
      expect(violations).toEqual([]);
      await context.close();
    });

    it('creates a public client by clicking: no private key is shown, the page says why and shows the PKCE flow, and axe finds no serious violation', async () => {
      const { context, page } = await ownerContext({ axe: true });
      await page.getByRole('link', { name: 'Create an API key' }).first().click();
      await page.getByRole('heading', { name: 'Create an API key', level: 1 }).waitFor();
      await expectAccessible(page);
      await page.getByLabel('Label').fill('E2E single-page app');
      await page.getByRole('radio', { name: /^Public A single-page or native app/ }).check();
      await page.getByLabel('Redirect URLs', { exact: true }).fill('https://spa.example/callback');
      await page.getByLabel('Post-logout redirect URLs').fill('https://spa.example/signed-out');
      await page.getByLabel('ID token algorithm').selectOption('ES256');
      await page.getByRole('button', { name: 'Create key' }).click();
      await page.getByRole('heading', { name: 'This public client has no private key' }).waitFor();
      const publicKey = PUBLIC_KEY.exec(page.url())?.[0] as string;
      expect(publicKey).toBeDefined();
      expect(await page.locator('#private-key').count()).toBe(0);
      const main = (await page.locator('main').textContent()) ?? '';
      expect(main).not.toMatch(/gsk_/);
      expect(main).toContain('code_verifier');
      expect(main).not.toContain('X-API-Key:');
      expect(await page.getByRole('button', { name: 'Rotate private key' }).count()).toBe(0);
      await expect(page.getByLabel('Post-logout redirect URLs').inputValue()).resolves.toBe(
        'https://spa.example/signed-out',
      );
      await expect(page.getByLabel('ID token algorithm').inputValue()).resolves.toBe('ES256');
      await expectAccessible(page);
      // Its longer example still fits a phone.
      await page.setViewportSize(PHONE);
      await expectNoHorizontalScroll(page);
      // The public client is what the admin API says it is.
      const res = await fetch(`${issuer}/v1/api-keys/${publicKey}`, {
        headers: { 'x-api-key': s.adminKeyA.privateKey },
      });
      expect(await res.json()).toMatchObject({
        clientType: 'public',
        last4: null,
        idTokenSignedResponseAlg: 'ES256',
      });
      await context.close();
    }, 60_000);

    it('rotates with no grace period: the new private key is shown once and works, the old one is refused', async () => {
      const { context, page } = await ownerContext();
      const { privateKey: old } = await createKeyByClicking(page, 'E2E rotation');
      await page.getByLabel('Grace period').selectOption('0');
      await page.getByRole('button', { name: 'Rotate private key' }).click();
      await page.getByRole('heading', { name: 'Your new private key' }).waitFor();
      const rotated = (await page.locator('#private-key').textContent())?.trim() as string;
      expect(rotated).toMatch(PRIVATE_KEY);
      expect(rotated).not.toBe(old);
      expect((await me(rotated)).status).toBe(200);
      expect((await me(old)).status).toBe(401);
      await context.close();
    });

    it('revokes after a confirmation: the key is refused at once', async () => {
      const { context, page } = await ownerContext();
      const { privateKey } = await createKeyByClicking(page, 'E2E revocation');
      await page.getByRole('link', { name: 'Revoke key…' }).click();
      await page.getByRole('heading', { name: 'Revoke “E2E revocation”?' }).waitFor();
      expect((await me(privateKey)).status).toBe(200);
      await page.getByRole('button', { name: 'Revoke key' }).click();
      await page.getByText('The key is revoked. It no longer works anywhere.').waitFor();
      expect(page.url()).toBe(`${keysOfA()}?done=revoked`);
      expect((await me(privateKey)).status).toBe(401);
      await context.close();
    });

    it('fits a 375 px phone without horizontal scroll: the list, the new-key form and the key page with its private key', async () => {
      const { context, page } = await ownerContext({ viewport: PHONE });
      await expectNoHorizontalScroll(page);
      await page.getByRole('link', { name: 'Create an API key' }).first().click();
      await page.getByLabel('Label').waitFor();
      await expectNoHorizontalScroll(page);
      await page.goto(keysOfA());
      await createKeyByClicking(page, 'E2E phone key with a rather long label to wrap on a small screen');
      await expectNoHorizontalScroll(page);
      await page.goto(keysOfA());
      await expectNoHorizontalScroll(page);
      await context.close();
    });

    it.each([
      ['at desktop width', undefined],
      ['at 375 px', PHONE],
    ])(
      'has no serious or critical accessibility violations %s: the list, the new-key form (blank and with errors), the key page with its private key, the revoke confirmation, an empty filter',
      async (_width, viewport) => {
        const { context, page } = await ownerContext({ axe: true, ...(viewport ? { viewport } : {}) });
        await expectAccessible(page);
        await page.goto(`${keysOfA()}/new`);
        await expectAccessible(page);
        await page.getByLabel('Redirect URLs', { exact: true }).fill('ftp://not-allowed.example');
        await page.getByRole('button', { name: 'Create key' }).click();
        await page.locator('#redirectUris-error').waitFor();
        await expectAccessible(page);
        await page.goto(keysOfA());
        const { publicKey } = await createKeyByClicking(page, 'E2E accessible key');
        await expectAccessible(page);
        await page.goto(`${keysOfA()}/${publicKey}/revoke`);
        await expectAccessible(page);
        await page.goto(`${keysOfA()}?status=revoked&q=nothing`);
        await expectAccessible(page);
        await context.close();
      },
      90_000,
    );
  });
}

for (const dialect of DIALECTS) suite(dialect);
