import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, CLI_ACTOR, userActor } from '../../src/domain/audit.ts';
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

/** 2030-01-01T00:00:00Z; the test's events are written on the days after it, every 4 hours. */
const START = Date.UTC(2030, 0, 1);
const EVENTS = 75;

function suite(dialect: DialectName) {
  const run = HAS_CHROMIUM && (dialect === 'sqlite' || POSTGRES_URL !== null) ? describe : describe.skip;
  run(`console audit log in real Chromium [${dialect}]${SKIP_REASON}`, () => {
    let server: ListeningTestApp;
    let browser: Browser;
    let s: Seed;
    let auditPath: string;

    beforeAll(async () => {
      server = await listenTestApp(dialect);
      const { db } = server.app.services;
      s = await seed(db);
      auditPath = `/o/${s.a.tenantId}/audit`;
      for (let i = 0; i < EVENTS; i++) {
        const by = i % 2 ? userActor(s.a.userId, '198.51.100.7') : CLI_ACTOR;
        const details = { workspaceId: s.a.mainWorkspaceId, changed: ['label', 'state'] };
        await audit(
          db,
          by,
          i % 5 ? 'workspace.updated' : 'member.removed',
          { tenantId: s.a.tenantId, target: `workspace:${i}`, details },
          START + i * 4 * 3_600_000,
        );
      }
      // A long key reference in a row: it must wrap on a phone.
      await audit(
        db,
        { actor: `key:${s.adminKeyA.key.publicKey}`, ip: '2001:db8::1234:5678:9abc:def0' },
        'api_key.rotated',
        {
          tenantId: s.a.tenantId,
          target: s.orgKeyA.key.publicKey,
          details: { graceSeconds: 86_400, previousSecretLast4: 'abcd' },
        },
      );
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    for (const [name, viewport] of [
      ['desktop', DESKTOP],
      ['375 px', PHONE],
    ] as const) {
      it(`filters the log by action, actor and day, pages through it, and shows errors beside the fields (${name})`, async () => {
        const context = await newContext(browser, { viewport, axe: true });
        const page = await context.newPage();
        await signInAs(page, server.issuer, 'owner@a.test', PASSWORD, auditPath);
        expect(new URL(page.url()).pathname).toBe(auditPath);
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Audit log');
        await expect(page.locator('tbody tr').count()).resolves.toBe(50);
        await expectAccessible(page);
        await expectNoHorizontalScroll(page);

        // Newest first: the rotated key, then the last workspace event.
        await expect(page.locator('tbody tr').first().textContent()).resolves.toContain('api_key.rotated');
        await page.getByRole('link', { name: 'Next' }).click();
        await page.waitForURL(/page=2/);
        await expect(page.getByText(/Showing 51–\d+ of \d+/).isVisible()).resolves.toBe(true);
        await expectAccessible(page);
        await expectNoHorizontalScroll(page);

        await page.getByLabel('Action').selectOption('member.removed');
        await page.getByLabel('Actor').fill('cli');
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.waitForURL(/action=member.removed/);
        // Events 0, 10, 20, ...70 are member.removed by the CLI (even i, multiple of 5).
        await expect(page.locator('tbody tr').count()).resolves.toBe(8);
        const actions = await page.locator('tbody tr td:nth-child(2)').allTextContents();
        expect(new Set(actions.map((a) => a.trim()))).toEqual(new Set(['member.removed']));

        await page.getByRole('link', { name: 'Clear' }).click();
        await page.getByLabel('From', { exact: true }).fill('2030-01-02');
        await page.getByLabel('To', { exact: true }).fill('2030-01-02');
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.waitForURL(/from=2030-01-02/);
        // Six events a day, 00:00 to 20:00 UTC: the To day is included whole.
        await expect(page.locator('tbody tr').count()).resolves.toBe(6);
        const times = await page.locator('tbody tr td:first-child').allTextContents();
        expect(times.map((t) => t.trim())).toEqual([
          '2030-01-02 20:00',
          '2030-01-02 16:00',
          '2030-01-02 12:00',
          '2030-01-02 08:00',
          '2030-01-02 04:00',
          '2030-01-02 00:00',
        ]);
        await expect(page.getByText('Includes the whole day, UTC').isVisible()).resolves.toBe(true);

        await page.getByLabel('Actor').fill('somebody');
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.waitForURL(/actor=somebody/);
        const actor = page.getByLabel('Actor');
        await expect(actor.getAttribute('aria-invalid')).resolves.toBe('true');
        await expect(actor.inputValue()).resolves.toBe('somebody');
        await expect(page.locator('#actor-error').textContent()).resolves.toContain('Enter an actor such as');
        await expectAccessible(page);
        await expectNoHorizontalScroll(page);

        await page.getByLabel('Actor').fill('');
        await page.getByLabel('Action').selectOption('consent.granted');
        await page.getByRole('button', { name: 'Filter' }).click();
        await expect(page.getByText('No events match these filters.').isVisible()).resolves.toBe(true);
        await expectAccessible(page);
        await page.getByRole('link', { name: 'Clear filters' }).click();
        await expect(page.locator('tbody tr').count()).resolves.toBe(50);
        await context.close();
      });
    }

    it('keeps its Content-Security-Policy, and works by keyboard alone', async () => {
      const context = await newContext(browser);
      const page = await context.newPage();
      const violations = cspViolations(page);
      await signInAs(page, server.issuer, 'owner@a.test', PASSWORD, auditPath);
      await page.getByLabel('Actor').focus();
      await page.keyboard.type(`user:${s.a.userId}`);
      await page.keyboard.press('Enter');
      await page.waitForURL(/actor=user/);
      const rows = await page.locator('tbody tr').count();
      expect(rows).toBeGreaterThan(0);
      await expect(page.locator('tbody tr').first().textContent()).resolves.toContain('owner@a.test');
      expect(violations).toEqual([]);
      await context.close();
    });
  });
}

for (const dialect of DIALECTS) suite(dialect);
