import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR, userActor } from '../../src/domain/audit.ts';
import { rememberConsent } from '../../src/domain/consents.ts';
import { addMember } from '../../src/domain/members.ts';
import {
  cspViolations,
  DESKTOP,
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

const NEW_PASSWORD = 'a fresh passphrase for the e2e test';

function suite(dialect: DialectName) {
  const run = HAS_CHROMIUM && (dialect === 'sqlite' || POSTGRES_URL !== null) ? describe : describe.skip;
  run(`console account page in real Chromium [${dialect}]${SKIP_REASON}`, () => {
    let server: ListeningTestApp;
    let browser: Browser;
    let s: Seed;

    beforeAll(async () => {
      server = await listenTestApp(dialect);
      s = await seed(server.app.services.db);
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    /** A person who administers A, is a member of B, and allowed A's organization key to act for them. */
    async function person(email: string) {
      const { db } = server.app.services;
      const added = await addMember(
        db,
        { tenantId: s.a.tenantId, email, password: PASSWORD, role: 'admin' },
        CLI_ACTOR,
      );
      await addMember(db, { tenantId: s.b.tenantId, email, role: 'member' }, CLI_ACTOR);
      await rememberConsent(db, added.user.id, s.orgKeyA.key, ['api1'], userActor(added.user.id, null));
      return added.user.id;
    }

    for (const [name, viewport] of [
      ['desktop', DESKTOP],
      ['375 px', PHONE],
    ] as const) {
      it(`renames, changes the password (signing out the other browser) and removes an allowed app (${name})`, async () => {
        const email = `person-${viewport.width}@a.test`;
        await person(email);
        const context = await newContext(browser, { viewport, axe: true });
        const page = await context.newPage();
        await signInAs(page, server.issuer, email, PASSWORD, '/console');
        expect(new URL(page.url()).pathname).toBe('/console');
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Your account');
        await expect(
          page.getByRole('link', { name: 'API configuration of Tenant A' }).getAttribute('href'),
        ).resolves.toBe(`/o/${s.a.tenantId}/api-keys`);
        await expect(page.getByRole('link', { name: /API configuration of Tenant B/ }).count()).resolves.toBe(
          0,
        );
        await expectAccessible(page);
        await expectNoHorizontalScroll(page);

        // Another browser, signed in as the same person: the password change must sign it out.
        const elsewhere = await newContext(browser, { viewport });
        const other = await elsewhere.newPage();
        await signInAs(other, server.issuer, email, PASSWORD, '/console');
        expect(new URL(other.url()).pathname).toBe('/console');

        await page.getByLabel('Display name').fill('Grace Hopper');
        await page.getByRole('button', { name: 'Save name' }).click();
        await expect(page.getByRole('status').textContent()).resolves.toBe('Your display name is saved.');
        await expect(page.getByLabel('Display name').inputValue()).resolves.toBe('Grace Hopper');

        await page.getByLabel('Current password').fill('not the password');
        await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
        await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
        await page.getByRole('button', { name: 'Change password' }).click();
        const current = page.getByLabel('Current password');
        await expect(current.getAttribute('aria-invalid')).resolves.toBe('true');
        await expect(page.locator('#current_password-error').textContent()).resolves.toBe(
          'Your current password is not correct.',
        );
        await expectAccessible(page);
        await expectNoHorizontalScroll(page);

        await page.getByLabel('Current password').fill(PASSWORD);
        await page.getByLabel('New password', { exact: true }).fill('too short');
        await page.getByLabel('Confirm new password').fill('too short');
        await page.getByRole('button', { name: 'Change password' }).click();
        await expect(page.locator('#new_password-error').textContent()).resolves.toBe(
          'Password must be at least 12 characters.',
        );
        await expect(page.getByLabel('Display name').inputValue()).resolves.toBe('Grace Hopper');

        await page.getByLabel('Current password').fill(PASSWORD);
        await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
        await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
        await page.getByRole('button', { name: 'Change password' }).click();
        await expect(page.getByRole('status').textContent()).resolves.toContain('Your password is changed.');
        await expectAccessible(page);

        await other.reload();
        expect(new URL(other.url()).pathname).toBe('/console/sign-in');
        await elsewhere.close();

        await page.getByRole('button', { name: 'Remove access of A org key' }).click();
        await page.waitForURL((url) => url.pathname === '/console');
        await expect(page.getByText('None yet. When you allow an application').isVisible()).resolves.toBe(
          true,
        );
        await expectAccessible(page);
        await expectNoHorizontalScroll(page);

        // Still signed in on the rotated session; signing out and in again takes the new password.
        await page.getByRole('button', { name: 'Sign out' }).click();
        await signInAs(page, server.issuer, email, NEW_PASSWORD, '/console');
        expect(new URL(page.url()).pathname).toBe('/console');
        await expect(page.getByLabel('Display name').inputValue()).resolves.toBe('Grace Hopper');
        await context.close();
      });
    }

    it('keeps its Content-Security-Policy and works by keyboard alone', async () => {
      const email = 'keyboard@a.test';
      await person(email);
      const context = await newContext(browser);
      const page = await context.newPage();
      const violations = cspViolations(page);
      await signInAs(page, server.issuer, email, PASSWORD, '/console');
      await page.getByLabel('Display name').focus();
      await page.keyboard.type('Keyboard User');
      await page.keyboard.press('Enter');
      await page.waitForURL(/done=name/);
      await expect(page.getByLabel('Display name').inputValue()).resolves.toBe('Keyboard User');
      expect(violations).toEqual([]);
      await context.close();
    });
  });
}

for (const dialect of DIALECTS) suite(dialect);
