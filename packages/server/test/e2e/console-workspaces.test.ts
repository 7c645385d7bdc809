import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

function suite(dialect: DialectName) {
  const run = HAS_CHROMIUM && (dialect === 'sqlite' || POSTGRES_URL !== null) ? describe : describe.skip;
  run(`console workspaces in real Chromium [${dialect}]${SKIP_REASON}`, () => {
    let server: ListeningTestApp;
    let browser: Browser;
    let s: Seed;
    let listPath: string;

    beforeAll(async () => {
      server = await listenTestApp(dialect);
      s = await seed(server.app.services.db);
      listPath = `/o/${s.a.tenantId}/workspaces`;
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    /** The page is usable by everyone, and fits the viewport. */
    async function checkPage(page: Page, axe: boolean) {
      if (axe) await expectAccessible(page);
      await expectNoHorizontalScroll(page);
    }

    /** Creates, renames, archives, restores and finds a workspace, as a person would. */
    async function clickThrough(page: Page, name: string, axe: boolean) {
      await signInAs(page, server.issuer, 'owner@a.test', PASSWORD, listPath);
      expect(new URL(page.url()).pathname).toBe(listPath);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Workspaces');
      await expect(page.getByRole('link', { name: 'Main' }).isVisible()).resolves.toBe(true);
      await checkPage(page, axe);

      await page.getByRole('link', { name: 'New workspace' }).click();
      await page.waitForURL(/\/workspaces\/new$/);
      await checkPage(page, axe);
      // Nothing typed: the error is beside the field, and the field says it is invalid.
      await page.getByRole('button', { name: 'Create workspace' }).click();
      await page.getByText('Workspace label must be 1 to 200 characters.').waitFor();
      await expect(page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).resolves.toBe(
        'true',
      );
      await checkPage(page, axe);

      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByRole('button', { name: 'Create workspace' }).click();
      await page.getByText('Workspace created.').waitFor();
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(name);
      await checkPage(page, axe);

      await page.getByLabel('Name', { exact: true }).fill(`${name} renamed`);
      await page.getByRole('button', { name: 'Save name' }).click();
      await page.getByText('Workspace renamed.').waitFor();
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`${name} renamed`);

      await page.getByRole('button', { name: 'Archive workspace' }).click();
      await page.getByText(/Workspace archived\. Its data can still be read/).waitFor();
      await expect(page.locator('.title-row .badge').textContent()).resolves.toBe('Archived');
      await checkPage(page, axe);

      await page.getByRole('button', { name: 'Restore workspace' }).click();
      await page.getByText('Workspace restored: its data can be changed again.').waitFor();
      await expect(page.locator('.title-row .badge').textContent()).resolves.toBe('Active');

      await page.getByRole('link', { name: '← Workspaces' }).click();
      await page.getByLabel('Search by name').fill(`${name} renamed`);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/\?q=/);
      await expect(page.locator('tbody tr').count()).resolves.toBe(1);
      await expect(page.getByRole('link', { name: `${name} renamed` }).isVisible()).resolves.toBe(true);
      await checkPage(page, axe);
    }

    for (const [label, viewport] of [
      ['desktop', DESKTOP],
      ['375 px', PHONE],
    ] as const) {
      it(`creates, renames, archives and restores a workspace; each page passes axe and fits (${label})`, async () => {
        const context = await newContext(browser, { viewport, axe: true });
        const page = await context.newPage();
        await clickThrough(page, `Flow ${label}`, true);
        await context.close();
      });
    }

    it('works under the pages’ Content-Security-Policy, which they never break', async () => {
      const context = await newContext(browser, { viewport: PHONE });
      const page = await context.newPage();
      const violations = cspViolations(page);
      await clickThrough(page, 'Under CSP', false);
      expect(violations).toEqual([]);
      await context.close();
    });

    it("shows a 404 page for another organization's workspace", async () => {
      const context = await newContext(browser);
      const page = await context.newPage();
      await signInAs(page, server.issuer, 'owner@a.test', PASSWORD, listPath);
      const res = await page.goto(`${server.issuer}${listPath}/${s.b.workspaceId}`);
      expect(res?.status()).toBe(404);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Not found');
      await context.close();
    });
  });
}

for (const dialect of DIALECTS) suite(dialect);
