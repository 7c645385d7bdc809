import { existsSync } from 'node:fs';
import axe from 'axe-core';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's Chromium: the only browser the tests drive (never a downloaded one). */
export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const SKIP_REASON = HAS_CHROMIUM
  ? ''
  : ` [skipped: ${CHROMIUM} is absent; CI installs Debian's chromium]`;

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 740 };

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}

/**
 * A browser context at `viewport`. `axe: true` bypasses the pages' CSP, so that the accessibility
 * checker can be injected; use a context without it to prove the pages work under their CSP.
 */
export async function newContext(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; axe?: boolean } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    bypassCSP: options.axe ?? false,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  context.setDefaultTimeout(10_000);
  return context;
}

/** Signs in through the sign-in page as a person would, starting from `path` (default `/`). */
export async function signInAs(page: Page, baseUrl: string, email: string, password: string, path = '/') {
  await page.goto(`${baseUrl}${path}`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
}

/** Runs axe-core on the page: no serious or critical violation (the context needs `axe: true`). */
export async function expectAccessible(page: Page): Promise<void> {
  await page.addScriptTag({ content: axe.source });
  // A string, evaluated in the page: the server's TypeScript has no DOM types.
  const results = await page.evaluate("axe.run(document, { resultTypes: ['violations'] })");
  const serious = (results as axe.AxeResults).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(serious, `${page.url()}`).toEqual([]);
}

/** Nothing wider than the viewport: readable on a phone without scrolling sideways. */
export async function expectNoHorizontalScroll(page: Page): Promise<void> {
  const { scroll, client } = (await page.evaluate(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
  )) as { scroll: number; client: number };
  expect(scroll, `${page.url()} is ${scroll}px wide in a ${client}px viewport`).toBeLessThanOrEqual(client);
}

/** Collects the page's Content-Security-Policy violations: a page that breaks its own policy fails. */
export function cspViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}
