/**
 * Screenshots of every console page, at desktop (1280 px) and phone (375 px) width, full page, for the
 * docs: `node --import tsx packages/server/scripts/screenshots.ts [output directory]` (default
 * `docs/screenshots/` at the repository's root).
 *
 * Starts the app on a temporary SQLite database, listening on 127.0.0.1, seeds a realistic
 * organization (workspaces, members, keys with redirect URLs and origins, a revoked key, a week of API
 * traffic), signs in with Debian's Chromium and saves one PNG per page and width. A page that answers
 * 404 (an area not built yet) is skipped and named at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { updateDisplayName } from '../src/domain/accounts.ts';
import {
  createApiKey,
  type IssuedApiKey,
  recordKeyUse,
  revokeApiKey,
  rotateApiKey,
} from '../src/domain/api-keys.ts';
import { type Actor, CLI_ACTOR, userActor } from '../src/domain/audit.ts';
import { HOUR_MS, recordUsage } from '../src/domain/key-usage.ts';
import { addMember } from '../src/domain/members.ts';
import { createTenant } from '../src/domain/tenants.ts';
import { createWorkspace, updateWorkspace } from '../src/domain/workspaces.ts';
import type { UsageCount } from '../src/model/types.ts';
import type { Db } from '../src/storage/transaction.ts';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'screenshots are worth a thousand words';
const OWNER = 'maria.keller@northwind.example';
const WIDTHS = { desktop: { width: 1280, height: 800 }, phone: { width: 375, height: 740 } } as const;
const OUT = resolve(process.argv[2] ?? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url)));

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const address = probe.address();
  await new Promise((done) => probe.close(done));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** A week of hourly traffic for a key: busier in working hours, a few refusals after a rotation. */
function weekOfTraffic(keyId: number, perHour: number): UsageCount[] {
  const now = Date.now();
  const thisHour = now - (now % HOUR_MS);
  const counts: UsageCount[] = [];
  for (let h = 0; h < 7 * 24; h++) {
    const hour = thisHour - h * HOUR_MS;
    const utcHour = new Date(hour).getUTCHours();
    const busy = utcHour >= 7 && utcHour <= 18 ? 1 : 0.25;
    const wave = 0.75 + 0.25 * Math.sin(h / 5);
    counts.push({ apiKeyId: keyId, hour, outcome: 'accepted', count: Math.round(perHour * busy * wave) });
    if (h % 29 === 3) counts.push({ apiKeyId: keyId, hour, outcome: 'rate_limited', count: 4 + (h % 7) });
    if (h === 30) counts.push({ apiKeyId: keyId, hour, outcome: 'rotated_out', count: 12 });
  }
  return counts;
}

interface Seeded {
  tenantId: number;
  dashboard: IssuedApiKey;
  revoked: IssuedApiKey;
}

/** Northwind Analytics: an owner, an admin, members, four workspaces (one archived) and their keys. */
async function seedOrganization(db: Db): Promise<Seeded> {
  const org = await createTenant(
    db,
    { label: 'Northwind Analytics', ownerEmail: OWNER, ownerPassword: PASSWORD, workspace: 'Production' },
    CLI_ACTOR,
  );
  const owner: Actor = {
    ...userActor(org.userId, '198.51.100.23'),
    authority: { role: 'owner', keyId: null },
  };
  await updateDisplayName(db, org.userId, 'Maria Keller', owner);
  const staging = await createWorkspace(db, org.tenantId, 'Staging', owner);
  const reporting = await createWorkspace(db, org.tenantId, 'Reporting', owner);
  const legacy = await createWorkspace(db, org.tenantId, 'Legacy import', owner);
  await updateWorkspace(db, org.tenantId, legacy.id, { state: 'Archived' }, owner);

  const people = [
    { email: 'jonas.berg@northwind.example', displayName: 'Jonas Berg', role: 'admin' },
    {
      email: 'aiko.tanaka@northwind.example',
      displayName: 'Aiko Tanaka',
      role: 'member',
      workspaceIds: [reporting.id],
    },
    { email: 'sam.okafor@northwind.example', displayName: 'Sam Okafor', role: 'member' },
    {
      email: 'lena.fischer@northwind.example',
      displayName: null,
      role: 'member',
      workspaceIds: [staging.id],
    },
  ];
  for (const person of people)
    await addMember(db, { tenantId: org.tenantId, password: PASSWORD, ...person }, owner);
  // An invited person who has not chosen a password yet.
  await addMember(db, { tenantId: org.tenantId, email: 'new.hire@northwind.example', role: 'member' }, owner);

  const key = (input: Omit<Parameters<typeof createApiKey>[1], 'tenantId'>) =>
    createApiKey(db, { tenantId: org.tenantId, ...input }, owner);
  const dashboard = await key({
    label: 'Customer dashboard',
    permissions: 'read',
    redirectUris: [
      'https://dashboard.northwind.example/auth/callback',
      'http://127.0.0.1:5173/auth/callback',
    ],
    corsOrigins: ['https://dashboard.northwind.example'],
  });
  const sync = await key({ label: 'Warehouse sync', workspaceId: reporting.id, permissions: 'write' });
  await key({
    label: 'Mobile app (iOS)',
    redirectUris: ['https://app.northwind.example/oauth/ios'],
    expiresAt: Date.now() + 180 * 24 * HOUR_MS,
  });
  await key({ label: 'Staging smoke tests', workspaceId: staging.id, expiresInMs: 14 * 24 * HOUR_MS });
  await key({ label: 'Provisioning (Terraform)', permissions: 'admin' });
  const revoked = await key({ label: 'Old partner integration', corsOrigins: ['https://partner.example'] });
  await revokeApiKey(db, revoked.key.publicKey, owner);
  await rotateApiKey(db, sync.key.publicKey, HOUR_MS, owner);

  // "Last used" as the key cache would have written it (it batches those writes).
  const now = Date.now();
  await recordKeyUse(
    db,
    new Map([
      [dashboard.key.id, now - 2 * 60_000],
      [sync.key.id, now - 3 * HOUR_MS],
      [revoked.key.id, now - 9 * 24 * HOUR_MS],
    ]),
  );
  await recordUsage(db, weekOfTraffic(dashboard.key.id, 180));
  await recordUsage(db, weekOfTraffic(sync.key.id, 40));
  return { tenantId: org.tenantId, dashboard, revoked };
}

/** Real requests with the keys, so that "last used" and the live counters have something to show. */
async function someTraffic(issuer: string, seeded: Seeded): Promise<void> {
  for (let i = 0; i < 25; i++) {
    await fetch(`${issuer}/me`, { headers: { 'x-api-key': seeded.dashboard.privateKey } });
    await fetch(`${issuer}/v1/workspaces`, { headers: { 'x-api-key': seeded.dashboard.privateKey } });
  }
  await fetch(`${issuer}/me`, { headers: { 'x-api-key': seeded.revoked.privateKey } });
}

const skipped = new Set<string>();
const saved: string[] = [];

/** Opens `url` and saves it as `{name}-{width}.png`, unless it answers 404. */
async function shoot(page: Page, url: string, name: string, width: string): Promise<void> {
  const response = await page.goto(url);
  if (response?.status() === 404) {
    skipped.add(`${name} (${new URL(url).pathname}: 404)`);
    return;
  }
  await save(page, name, width);
}

async function save(page: Page, name: string, width: string): Promise<void> {
  const path = join(OUT, `${name}-${width}.png`);
  await page.screenshot({ path, fullPage: true });
  saved.push(path);
}

/** Every page at one width, in a fresh browser context. */
async function shootAll(browser: Browser, issuer: string, seeded: Seeded, width: keyof typeof WIDTHS) {
  const context = await browser.newContext({ viewport: WIDTHS[width], deviceScaleFactor: 1 });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const org = `${issuer}/o/${seeded.tenantId}`;

  await page.goto(`${issuer}/`);
  await save(page, 'sign-in', width);
  await page.getByLabel('Email').fill(OWNER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${org}/api-keys`);
  await save(page, 'api-keys', width);

  await shoot(page, `${org}/api-keys/new`, 'api-key-new', width);
  // The key page as it is right after creation: its private key shown, once.
  if (!skipped.has('api-key-new')) {
    await page.getByLabel('Label').fill(`Billing export (${width})`);
    await page.getByLabel('Redirect URLs').fill('https://billing.northwind.example/oauth/callback');
    await page.getByLabel('Allowed CORS origins').fill('https://billing.northwind.example');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#private-key').waitFor();
    await save(page, 'api-key-created', width);
  }
  await shoot(page, `${org}/api-keys/${seeded.dashboard.key.publicKey}`, 'api-key', width);
  await shoot(page, `${org}/api-keys/${seeded.dashboard.key.publicKey}/revoke`, 'api-key-revoke', width);
  await shoot(page, `${org}/workspaces`, 'workspaces', width);
  await shoot(page, `${org}/members`, 'members', width);
  await shoot(page, `${org}/audit`, 'audit-log', width);
  await shoot(page, `${issuer}/console`, 'account', width);
  await context.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-screenshots-'));
  const port = await freePort();
  const config = loadConfig({
    GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
    GATEHOUSE_DATABASE_URL: join(dir, 'screenshots.db'),
    GATEHOUSE_PORT: String(port),
    GATEHOUSE_LOG_LEVEL: 'silent',
  });
  const app = await buildApp(config);
  let browser: Browser | undefined;
  try {
    await app.listen({ host: '127.0.0.1', port });
    const issuer = config.issuer;
    const seeded = await seedOrganization(app.services.db);
    await someTraffic(issuer, seeded);
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    for (const width of ['desktop', 'phone'] as const) await shootAll(browser, issuer, seeded, width);
  } finally {
    await browser?.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`Saved ${saved.length} screenshots in ${OUT}`);
  for (const name of skipped) console.log(`Skipped ${name}`);
}

await main();
