import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCredentials } from '../../src/domain/users.ts';
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

const CHOSEN_PASSWORD = 'the password chosen through the link';

function suite(dialect: DialectName) {
  const run = HAS_CHROMIUM && (dialect === 'sqlite' || POSTGRES_URL !== null) ? describe : describe.skip;
  run(`console members in real Chromium [${dialect}]${SKIP_REASON}`, () => {
    let server: ListeningTestApp;
    let browser: Browser;
    let s: Seed;
    let listPath: string;

    beforeAll(async () => {
      server = await listenTestApp(dialect);
      s = await seed(server.app.services.db);
      listPath = `/o/${s.a.tenantId}/members`;
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    async function checkPage(page: Page, axe: boolean) {
      if (axe) await expectAccessible(page);
      await expectNoHorizontalScroll(page);
    }

    /** Opens a sign-in link in a browser of its own, as the new member would, and chooses a password. */
    async function useLink(context: BrowserContext, link: string) {
      const page = await context.newPage();
      await page.goto(link);
      await page.getByLabel('New password (12 characters or more)').fill(CHOSEN_PASSWORD);
      await page.getByRole('button', { name: 'Set password and sign in' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/console/welcome'));
      await page.close();
    }

    /**
     * Adds a member with a sign-in link, copies it, reloads (it is gone), has them use it, changes their
     * role and workspaces, then removes them through the confirmation step.
     */
    async function clickThrough(context: BrowserContext, email: string, name: string, axe: boolean) {
      const page = await context.newPage();
      await signInAs(page, server.issuer, 'owner@a.test', PASSWORD, listPath);
      expect(new URL(page.url()).pathname).toBe(listPath);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Members');
      await checkPage(page, axe);

      await page.getByRole('link', { name: 'Add member' }).click();
      await page.waitForURL(/\/members\/new$/);
      await checkPage(page, axe);
      // A typo first: the error shows beside the email, and what was typed stays.
      await page.getByLabel('Email').fill('not-an-email');
      await page.getByLabel('Name (optional)').fill(name);
      await page.getByRole('checkbox', { name: 'Main' }).check();
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByText('Email is not an email address.').waitFor();
      await expect(page.getByLabel('Name (optional)').inputValue()).resolves.toBe(name);
      await expect(page.getByRole('checkbox', { name: 'Main' }).isChecked()).resolves.toBe(true);
      await checkPage(page, axe);

      await page.getByLabel('Email').fill(email);
      await expect(
        page.getByRole('radio', { name: /^Give them a one-time sign-in link/ }).isChecked(),
      ).resolves.toBe(true);
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByText('Member added.').waitFor();
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(name);
      const link = (await page.locator('#sign-in-link').textContent())?.trim() ?? '';
      expect(link).toMatch(/\/console\/welcome\?token=gsl_/);
      await expect(page.getByText('you will not see this again').isVisible()).resolves.toBe(true);
      // The copy button, shown by the console's script, copies the link.
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await expect.poll(() => page.locator('button.copy').textContent()).toBe('Copied');
      await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(link);
      await checkPage(page, axe);

      await page.reload();
      await expect(page.locator('#sign-in-link').count()).resolves.toBe(0);
      await expect(page.getByText('Member added.').isVisible()).resolves.toBe(true);

      const invitee = await newContext(browser);
      await useLink(invitee, link);
      await invitee.close();
      await expect(checkCredentials(server.app.services.db, email, CHOSEN_PASSWORD)).resolves.toMatchObject({
        ok: true,
      });

      // Limited to Main: now to Second instead, then made an admin.
      await expect(page.getByRole('checkbox', { name: 'Main' }).isChecked()).resolves.toBe(true);
      await page.getByRole('checkbox', { name: 'Main' }).uncheck();
      await page.getByRole('checkbox', { name: 'Second' }).check();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Changes saved.').waitFor();
      await expect(page.locator('.facts').textContent()).resolves.toContain('Second');
      await page.getByRole('radio', { name: /^Admin/ }).check();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Changes saved.').waitFor();
      await expect(page.locator('.title-row .badge').textContent()).resolves.toBe('Admin');
      await expect(page.locator('.facts').textContent()).resolves.toContain('All workspaces');
      await checkPage(page, axe);

      await page.getByRole('link', { name: 'Remove member…' }).click();
      await page.waitForURL(/\/remove$/);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`Remove ${name}?`);
      await checkPage(page, axe);
      await page.getByRole('button', { name: 'Remove member' }).click();
      await page.getByText('Member removed.').waitFor();
      await expect(page.getByRole('link', { name }).count()).resolves.toBe(0);
      await checkPage(page, axe);
      await page.close();
    }

    for (const [label, viewport] of [
      ['desktop', DESKTOP],
      ['375 px', PHONE],
    ] as const) {
      it(`adds a member with a one-time link, changes and removes them; each page passes axe and fits (${label})`, async () => {
        const context = await newContext(browser, { viewport, axe: true });
        await clickThrough(context, `new-${viewport.width}@a.test`, `New Person ${viewport.width}`, true);
        await context.close();
      });
    }

    it('works under the pages’ Content-Security-Policy, which they never break', async () => {
      const context = await newContext(browser, { viewport: PHONE });
      const page = await context.newPage();
      const violations = cspViolations(page);
      await page.close();
      await clickThrough(context, 'under-csp@a.test', 'Under CSP', false);
      expect(violations).toEqual([]);
      await context.close();
    });

    it('shows the last owner why they can be neither demoted nor removed', async () => {
      const context = await newContext(browser, { axe: true });
      const page = await context.newPage();
      const ownerPage = `${listPath}/${s.a.userId}`;
      await signInAs(page, server.issuer, 'owner@a.test', PASSWORD, ownerPage);
      await expect(page.getByText('This is you.').isVisible()).resolves.toBe(true);
      await page.getByRole('radio', { name: /^Admin/ }).check();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page
        .getByText('The last owner of an organization can be neither demoted nor removed.')
        .first()
        .waitFor();
      await expect(page.getByRole('radio', { name: /^Admin/ }).isChecked()).resolves.toBe(true);
      await checkPage(page, true);
      await page.getByRole('link', { name: 'Remove yourself…' }).click();
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Remove yourself?');
      await page.getByRole('button', { name: 'Remove myself' }).click();
      await page.getByText('The last owner of an organization can be neither demoted nor removed.').waitFor();
      await checkPage(page, true);
      await context.close();
    });
  });
}

for (const dialect of DIALECTS) suite(dialect);
