import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { buildApp } from '../src/app.ts';
import { createApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import { createTenant, initialize } from '../src/domain/tenants.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import { migrate, openStorage, type Storage } from '../src/storage/database.ts';
import { Browser } from './helpers/authorization-flow.ts';
import { cliError, cliJson, freshDatabase, runCli as run } from './helpers/cli.ts';
import { describeEachDialect, testConfig } from './helpers/test-app.ts';

const SECRET = 'cli-admin-test-secret-cli-admin-test-secret';
const PASSWORD = 'a long enough passphrase';
/** Where sign-in links point: the configured public URL, not wherever the CLI runs. */
const ISSUER = 'https://auth.example.test';

/** The CLI with this file's secret and public URL. */
const runCli = (args: string[], env: Record<string, string>, cwd: string) =>
  run(args, { GATEHOUSE_SECRET: SECRET, GATEHOUSE_ISSUER: ISSUER, ...env }, cwd);

const json = cliJson;

// Every CLI run starts a Node process that compiles the sources: seconds each on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

/**
 * Issue 10, CLI: `members list|add|update|remove`, `workspaces update|archive|restore`, `audit list`
 * and `users create` call the admin API's domain functions. Each command runs as its own process on a
 * fresh database; what it changed is then checked through an app on the same database.
 */
describeEachDialect('gatehouse CLI: members, workspaces, audit', (dialect) => {
  let db: { url: string; drop: () => Promise<void> };
  let cwd: string;
  let tenantId: number;
  let ownerId: number;
  let mainWorkspace: number;
  let secondWorkspace: number;
  let otherTenant: { tenantId: number; workspaceId: number };
  let dataKey: string;

  /** The database, open only while `work` runs (the CLI processes open it too). */
  async function withDb<T>(work: (storage: Storage) => Promise<T>): Promise<T> {
    const storage = openStorage(db.url, { poolSize: 2 });
    try {
      await migrate(storage);
      return await work(storage);
    } finally {
      await storage.close();
    }
  }

  /** An app on the CLI's database, for checking what a command changed as a client would see it. */
  async function withApp<T>(work: (app: FastifyInstance) => Promise<T>): Promise<T> {
    const app = await buildApp(testConfig({ GATEHOUSE_DATABASE_URL: db.url, GATEHOUSE_SECRET: SECRET }), {
      keyCache: { pollMs: 50 },
    });
    try {
      return await work(app);
    } finally {
      await app.close();
    }
  }

  beforeAll(async () => {
    db = await freshDatabase(dialect);
    // Any stray file the CLI might write lands here, not in the repository.
    cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-admin-cwd-'));
    await withDb(async ({ db: kysely }) => {
      const created = await initialize(
        kysely,
        { label: 'CLI org', ownerEmail: 'owner@cli.test', ownerPassword: PASSWORD, workspace: 'Main' },
        CLI_ACTOR,
      );
      tenantId = created.tenantId;
      ownerId = created.userId;
      mainWorkspace = created.workspaceId as number;
      secondWorkspace = (await createWorkspace(kysely, tenantId, 'Second', CLI_ACTOR)).id;
      const other = await createTenant(
        kysely,
        { label: 'Other org', ownerEmail: 'boss@other.test', ownerPassword: PASSWORD, workspace: 'Theirs' },
        CLI_ACTOR,
      );
      otherTenant = { tenantId: other.tenantId, workspaceId: other.workspaceId as number };
      dataKey = (await createApiKey(kysely, { tenantId, label: 'data key' }, CLI_ACTOR)).privateKey;
    });
  });
  afterAll(async () => {
    await db?.drop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { GATEHOUSE_DATABASE_URL: db.url, ...env }, cwd);
  const tenant = () => ['--tenant', String(tenantId)];

  let devId: number;
  let linkedId: number;

  // --- members add / users create ----------------------------------------------------------------

  it('members add creates a member limited to a workspace and prints JSON, never the password', async () => {
    const run = await cli([
      'members',
      'add',
      ...tenant(),
      '--email',
      'Dev@CLI.test',
      '--password',
      PASSWORD,
      '--role',
      'member',
      '--workspace',
      String(secondWorkspace),
      '--display-name',
      'Dev Eloper',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toEqual({
      id: expect.any(Number),
      email: 'dev@cli.test',
      displayName: 'Dev Eloper',
      tenantId,
      role: 'member',
      workspaceIds: [secondWorkspace],
      created: true,
    });
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    devId = json(run).id;
  });

  it('members add without a password prints a one-time sign-in link on the configured URL', async () => {
    const run = await cli([
      'members',
      'add',
      ...tenant(),
      '--email',
      'linked@cli.test',
      '--role',
      'admin',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const added = json(run);
    expect(added).toMatchObject({ email: 'linked@cli.test', role: 'admin', created: true });
    expect(added.signInLink).toMatch(
      new RegExp(`^${ISSUER.replace(/\./g, '\\.')}/console/welcome\\?token=gsl_[A-Za-z0-9_-]{43}$`),
    );
    linkedId = added.id;
  });

  it('the printed sign-in link opens the welcome page of a server on the same database', async () => {
    const run = await cli([
      'members',
      'add',
      ...tenant(),
      '--email',
      'opens@cli.test',
      '--role',
      'member',
      '--json',
    ]);
    const link = new URL(json(run).signInLink);
    await withApp(async (app) => {
      const page = await new Browser(app).get(`${link.pathname}${link.search}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('opens@cli.test');
    });
  });

  it('members add without --json prints the sign-in link in its text once', async () => {
    const run = await cli(['members', 'add', ...tenant(), '--email', 'text@cli.test', '--role', 'member']);
    expect(run.code, run.stderr).toBe(0);
    const links = run.stdout.match(/https:\/\/\S+\/console\/welcome\?token=gsl_\S+/g) ?? [];
    expect(links).toHaveLength(1);
    expect(run.stdout).toMatch(/One-time sign-in link \(24 h, shown only now\)/);
  });

  it('users create without a password prints a sign-in link too', async () => {
    const run = await cli([
      'users',
      'create',
      ...tenant(),
      '--email',
      'legacy@cli.test',
      '--role',
      'member',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ email: 'legacy@cli.test', created: true });
    expect(json(run).signInLink).toMatch(/^https:\/\/auth\.example\.test\/console\/welcome\?token=gsl_/);
  });

  it('members add takes the password from GATEHOUSE_USER_PASSWORD, and then prints no link', async () => {
    const run = await cli(
      ['members', 'add', ...tenant(), '--email', 'env@cli.test', '--role', 'member', '--json'],
      { GATEHOUSE_USER_PASSWORD: PASSWORD },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(json(run).signInLink).toBeUndefined();
    await withApp(async (app) => {
      expect((await new Browser(app).signIn('env@cli.test', PASSWORD)).statusCode).toBe(303);
    });
  });

  it('members add of an existing member exits 1 with conflict', async () => {
    const run = await cli([
      'members',
      'add',
      ...tenant(),
      '--email',
      'dev@cli.test',
      '--role',
      'member',
      '--json',
    ]);
    expect(run.code).toBe(1);
    expect(cliError(run).code).toBe('conflict');
  });

  it('members add with a bad email exits 1 with validation_failed', async () => {
    const run = await cli([
      'members',
      'add',
      ...tenant(),
      '--email',
      'not-an-email',
      '--role',
      'member',
      '--json',
    ]);
    expect(run.code).toBe(1);
    expect(cliError(run).code).toBe('validation_failed');
  });

  // --- members list ------------------------------------------------------------------------------

  it('members list --json lists every member with role and workspaces, by email', async () => {
    const run = await cli(['members', 'list', ...tenant(), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const listed = json(run) as { items: { id: number; email: string; role: string }[]; total: number };
    const emails = listed.items.map((m) => m.email);
    expect(emails).toEqual([...emails].sort());
    expect(emails).toEqual(expect.arrayContaining(['owner@cli.test', 'dev@cli.test', 'linked@cli.test']));
    expect(emails).not.toContain('boss@other.test');
    expect(listed.total).toBe(listed.items.length);
    expect(listed.items.find((m) => m.id === devId)).toMatchObject({
      role: 'member',
      workspaceIds: [secondWorkspace],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('members list --search filters by email or display name', async () => {
    const byName = await cli(['members', 'list', ...tenant(), '--search', 'eloper', '--json']);
    expect(json(byName).items.map((m: { email: string }) => m.email)).toEqual(['dev@cli.test']);
    const human = await cli(['members', 'list', ...tenant(), '--search', 'linked@']);
    expect(human.stdout.trim().split('\n')).toHaveLength(1);
    expect(human.stdout).toMatch(/admin\s+linked@cli\.test/);
  });

  // --- members update ----------------------------------------------------------------------------

  it('members update --workspace limits a member to the workspaces given', async () => {
    const run = await cli([
      'members',
      'update',
      String(devId),
      ...tenant(),
      '--workspace',
      String(mainWorkspace),
      '--workspace',
      String(secondWorkspace),
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({
      id: devId,
      role: 'member',
      workspaceIds: [mainWorkspace, secondWorkspace],
    });
  });

  it('members update --all-workspaces lifts the limit', async () => {
    const run = await cli(['members', 'update', String(devId), ...tenant(), '--all-workspaces', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ id: devId, workspaceIds: null });
  });

  it('members update --role changes the role', async () => {
    const run = await cli(['members', 'update', String(devId), ...tenant(), '--role', 'admin', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ id: devId, role: 'admin', workspaceIds: null });
    const human = await cli(['members', 'update', String(devId), ...tenant(), '--role', 'member']);
    expect(human.stdout.trim()).toBe(`User ${devId} is now member.`);
  });

  it('members update --workspace on an admin exits 1 with validation_failed', async () => {
    const run = await cli([
      'members',
      'update',
      String(linkedId),
      ...tenant(),
      '--workspace',
      String(mainWorkspace),
      '--json',
    ]);
    expect(run.code).toBe(1);
    expect(cliError(run)).toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/members/),
    });
  });

  it('members update demoting the last owner exits 1 with conflict, and the owner stays', async () => {
    const run = await cli(['members', 'update', String(ownerId), ...tenant(), '--role', 'admin', '--json']);
    expect(run.code).toBe(1);
    expect(cliError(run).code).toBe('conflict');
    const listed = await cli(['members', 'list', ...tenant(), '--search', 'owner@cli', '--json']);
    expect(json(listed).items[0].role).toBe('owner');
  });

  it("members update of another organization's member exits 1 with not_found", async () => {
    const list = await cli(['members', 'list', '--tenant', String(otherTenant.tenantId), '--json']);
    const boss = json(list).items[0].id as number;
    const run = await cli(['members', 'update', String(boss), ...tenant(), '--role', 'member', '--json']);
    expect(run.code).toBe(1);
    expect(cliError(run).code).toBe('not_found');
  });

  // --- members remove ----------------------------------------------------------------------------

  it('members remove removes a member; a second removal exits 1 with not_found', async () => {
    const run = await cli(['members', 'remove', String(linkedId), ...tenant(), '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toEqual({ id: linkedId, tenantId, removed: true });
    const listed = await cli(['members', 'list', ...tenant(), '--json']);
    expect(json(listed).items.map((m: { id: number }) => m.id)).not.toContain(linkedId);
    const again = await cli(['members', 'remove', String(linkedId), ...tenant(), '--json']);
    expect(again.code).toBe(1);
    expect(cliError(again).code).toBe('not_found');
  });

  it('members remove of the last owner exits 1 with conflict', async () => {
    const run = await cli(['members', 'remove', String(ownerId), ...tenant(), '--json']);
    expect(run.code).toBe(1);
    expect(cliError(run).code).toBe('conflict');
  });

  it('members remove ends the removed person’s sessions on the servers', async () => {
    await withApp(async (app) => {
      const browser = new Browser(app);
      expect((await browser.signIn('env@cli.test', PASSWORD)).statusCode).toBe(303);
      expect((await browser.get('/console')).statusCode).toBe(200);
      const list = await cli(['members', 'list', ...tenant(), '--search', 'env@cli', '--json']);
      const run = await cli(['members', 'remove', String(json(list).items[0].id), ...tenant()]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/removed from organization/);
      expect((await browser.get('/console')).statusCode).toBe(303);
    });
  });

  // --- workspaces update / archive / restore ------------------------------------------------------

  it('workspaces update changes label, logo and retention and prints the API shape', async () => {
    const run = await cli([
      'workspaces',
      'update',
      String(secondWorkspace),
      ...tenant(),
      '--label',
      'Second, renamed',
      '--logo-url',
      'https://cdn.example/logo.png',
      '--retention-days',
      '45',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toEqual({
      id: secondWorkspace,
      tenantId,
      label: 'Second, renamed',
      logoUrl: 'https://cdn.example/logo.png',
      state: 'Active',
      permissions: null,
      dataSubjectArchivedRetentionDays: 45,
      nbEntities: 0,
    });
  });

  it('workspaces update --no-logo clears the logo and leaves the rest', async () => {
    const run = await cli([
      'workspaces',
      'update',
      String(secondWorkspace),
      ...tenant(),
      '--no-logo',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({
      label: 'Second, renamed',
      logoUrl: null,
      dataSubjectArchivedRetentionDays: 45,
    });
  });

  it('workspaces update with an http logo exits 1 with validation_failed and changes nothing', async () => {
    const run = await cli([
      'workspaces',
      'update',
      String(secondWorkspace),
      ...tenant(),
      '--logo-url',
      'http://cdn.example/logo.png',
      '--json',
    ]);
    expect(run.code).toBe(1);
    expect(cliError(run).code).toBe('validation_failed');
    await withApp(async (app) => {
      const res = await app.inject({
        url: `/v1/workspaces/${secondWorkspace}`,
        headers: { 'x-api-key': dataKey },
      });
      expect(res.json().logoUrl).toBeNull();
    });
  });

  it('workspaces archive archives: listed as Archived, and the data API refuses entity writes (409)', async () => {
    const run = await cli(['workspaces', 'archive', String(mainWorkspace), ...tenant(), '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ id: mainWorkspace, state: 'Archived' });
    await withApp(async (app) => {
      const listed = await app.inject({ url: '/v1/workspaces', headers: { 'x-api-key': dataKey } });
      expect(listed.json().items).toContainEqual(
        expect.objectContaining({ id: mainWorkspace, state: 'Archived' }),
      );
      const add = await app.inject({
        method: 'POST',
        url: `/v1/workspaces/${mainWorkspace}/entities`,
        headers: { 'x-api-key': dataKey },
        payload: { name: 'Refused' },
      });
      expect(add.statusCode).toBe(409);
      expect(add.json().code).toBe('conflict');
    });
  });

  it('workspaces restore makes an archived workspace Active and writable again', async () => {
    const run = await cli(['workspaces', 'restore', String(mainWorkspace), ...tenant()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(`Workspace ${mainWorkspace} "Main" is active.`);
    await withApp(async (app) => {
      const add = await app.inject({
        method: 'POST',
        url: `/v1/workspaces/${mainWorkspace}/entities`,
        headers: { 'x-api-key': dataKey },
        payload: { name: 'Accepted' },
      });
      expect(add.statusCode).toBe(201);
    });
  });

  it("workspaces archive of another organization's workspace exits 1 with not_found", async () => {
    const run = await cli(['workspaces', 'archive', String(otherTenant.workspaceId), ...tenant(), '--json']);
    expect(run.code).toBe(1);
    expect(cliError(run).code).toBe('not_found');
    const theirs = await withDb(({ db: kysely }) =>
      kysely
        .selectFrom('workspaces')
        .select('state')
        .where('id', '=', otherTenant.workspaceId)
        .executeTakeFirstOrThrow(),
    );
    expect(theirs.state).toBe('Active');
  });

  // --- audit list ---------------------------------------------------------------------------------

  interface AuditJson {
    items: { action: string; actor: string; target: string | null; tenantId: number; createdAt: string }[];
    total: number;
  }

  it('audit list --action lists only that action, newest first, with the CLI as actor', async () => {
    const run = await cli(['audit', 'list', ...tenant(), '--action', 'member.removed', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const log = json(run) as AuditJson;
    expect(log.total).toBe(2);
    expect(log.items.map((e) => e.action)).toEqual(['member.removed', 'member.removed']);
    expect(log.items[1]).toMatchObject({ actor: 'cli', target: `user:${linkedId}`, tenantId });
  });

  it('audit list --actor filters by who acted', async () => {
    const byCli = json(
      await cli(['audit', 'list', ...tenant(), '--actor', 'cli', '--size', '500', '--json']),
    ) as AuditJson;
    expect(byCli.total).toBeGreaterThan(5);
    expect(new Set(byCli.items.map((e) => e.actor))).toEqual(new Set(['cli']));
    const nobody = json(
      await cli(['audit', 'list', ...tenant(), '--actor', 'user:999999', '--json']),
    ) as AuditJson;
    expect(nobody).toEqual({ items: [], total: 0 });
  });

  it('audit list --from and --to bound the time, --to exclusive', async () => {
    const all = json(await cli(['audit', 'list', ...tenant(), '--size', '500', '--json'])) as AuditJson;
    const oldest = all.items[all.items.length - 1]?.createdAt as string;
    const [upToOldest, fromOldest, future] = (
      await Promise.all([
        cli(['audit', 'list', ...tenant(), '--to', oldest, '--json']),
        cli(['audit', 'list', ...tenant(), '--from', oldest, '--size', '500', '--json']),
        cli(['audit', 'list', ...tenant(), '--from', '2999-01-01T00:00:00Z', '--json']),
      ])
    ).map((run) => json(run) as AuditJson) as [AuditJson, AuditJson, AuditJson];
    expect(upToOldest.items.map((e) => e.createdAt)).not.toContain(oldest);
    expect(fromOldest.total).toBe(all.total);
    expect(future).toEqual({ items: [], total: 0 });
  });

  it('audit list combines filters and pages with --page and --size', async () => {
    const query = [...tenant(), '--action', 'member.added', '--actor', 'cli', '--size', '2'];
    const [first, second] = (
      await Promise.all([
        cli(['audit', 'list', ...query, '--json']),
        cli(['audit', 'list', ...query, '--page', '2', '--json']),
      ])
    ).map((run) => json(run) as AuditJson) as [AuditJson, AuditJson];
    expect(first.total).toBe(second.total);
    expect(first.total).toBeGreaterThanOrEqual(4);
    expect(first.items).toHaveLength(2);
    expect(second.items).toHaveLength(2);
    expect(second.items[0]?.target).not.toBe(first.items[1]?.target);
    for (const e of [...first.items, ...second.items])
      expect(e).toMatchObject({ action: 'member.added', actor: 'cli' });
  });

  it("audit list shows only the organization's own events", async () => {
    const mine = json(await cli(['audit', 'list', ...tenant(), '--size', '500', '--json'])) as AuditJson;
    expect(new Set(mine.items.map((e) => e.tenantId))).toEqual(new Set([tenantId]));
    expect(JSON.stringify(mine)).not.toContain(`tenant:${otherTenant.tenantId}`);
  });

  it('audit list without --json prints one line per event with its action', async () => {
    const run = await cli(['audit', 'list', ...tenant(), '--action', 'workspace.updated']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines)
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+\s+workspace\.updated\s+cli\s+workspace:\d+$/);
  });
  // --- keys: public clients and OpenID Connect settings (issue 14) -------------------------------

  const createKey = async (...args: string[]) => {
    const run = await cli(['keys', 'create', ...tenant(), ...args, '--json']);
    expect(run.code, run.stderr).toBe(0);
    return json(run);
  };

  it('keys create --public makes a public client: --json has privateKey null and clientType public, and no secret is stored', async () => {
    const created = await createKey(
      '--public',
      '--label',
      'CLI single-page app',
      '--redirect-uri',
      'https://spa.example/callback',
      '--post-logout-redirect-uri',
      'https://spa.example/signed-out',
      '--post-logout-redirect-uri',
      'http://127.0.0.1:5173/bye',
      '--id-token-alg',
      'ES256',
    );
    expect(created).toMatchObject({
      publicKey: expect.stringMatching(/^gpk_[0-9A-Za-z]{24}$/),
      privateKey: null,
      clientType: 'public',
      label: 'CLI single-page app',
      redirectUris: ['https://spa.example/callback'],
      postLogoutRedirectUris: ['https://spa.example/signed-out', 'http://127.0.0.1:5173/bye'],
      idTokenSignedResponseAlg: 'ES256',
    });
    expect(Object.hasOwn(created, 'privateKey')).toBe(true);
    const secrets = await withDb(({ db: kysely }) =>
      kysely
        .selectFrom('api_key_secrets as s')
        .innerJoin('api_keys as k', 'k.id', 's.api_key_id')
        .select('s.id')
        .where('k.public_key', '=', created.publicKey)
        .execute(),
    );
    expect(secrets).toEqual([]);
  });

  it('keys create --public without --json prints no private key and says why; keys show says it has none', async () => {
    const run = await cli(['keys', 'create', ...tenant(), '--public', '--label', 'CLI native app']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/gsk_/);
    expect(run.stdout).not.toContain('private key (secret)');
    expect(run.stdout).toContain('a public client');
    expect(run.stdout).toContain('It has no private key');
    expect(run.stdout).toContain('authorization code flow and PKCE');
    const publicKey = /gpk_[0-9A-Za-z]{24}/.exec(run.stdout)?.[0] as string;
    const shown = await cli(['keys', 'show', publicKey]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/private key:\s+none \(a public client\)/);
    expect(shown.stdout).toMatch(/client type:\s+public/);
    expect(shown.stdout).toMatch(/ID token algorithm:\s+RS256/);
  });

  it('keys create without --public makes a confidential key with its private key, RS256 ID tokens by default', async () => {
    const created = await createKey('--label', 'CLI confidential app');
    expect(created).toMatchObject({
      clientType: 'confidential',
      privateKey: expect.stringMatching(/^gsk_[0-9A-Za-z]{49}$/),
      postLogoutRedirectUris: [],
      idTokenSignedResponseAlg: 'RS256',
    });
  });

  it('keys rotate of a public client exits 1 with conflict, saying it has no private key', async () => {
    const created = await createKey('--public', '--label', 'CLI unrotatable app');
    const run = await cli(['keys', 'rotate', created.publicKey, '--json']);
    expect(run.code).toBe(1);
    expect(cliError(run)).toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/public client: it has no private key/),
    });
  });

  it('keys update --post-logout-redirect-uri and --id-token-alg change them; --no-post-logout-redirect-uris clears them', async () => {
    const created = await createKey(
      '--public',
      '--label',
      'CLI updated app',
      '--post-logout-redirect-uri',
      'https://spa.example/old-bye',
    );
    const updated = await cli([
      'keys',
      'update',
      created.publicKey,
      '--post-logout-redirect-uri',
      'https://spa.example/bye',
      '--id-token-alg',
      'ES256',
      '--json',
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(json(updated)).toMatchObject({
      clientType: 'public',
      postLogoutRedirectUris: ['https://spa.example/bye'],
      idTokenSignedResponseAlg: 'ES256',
    });
    const cleared = await cli([
      'keys',
      'update',
      created.publicKey,
      '--no-post-logout-redirect-uris',
      '--json',
    ]);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(json(cleared)).toMatchObject({ postLogoutRedirectUris: [], idTokenSignedResponseAlg: 'ES256' });
  });

  it('keys create and update refuse an ID token algorithm outside RS256 and ES256 as a usage error (exit 2), and a bad post-logout URI with validation_failed', async () => {
    const [hmac, update, badUri] = await Promise.all([
      cli(['keys', 'create', ...tenant(), '--id-token-alg', 'HS256', '--json']),
      cli(['keys', 'update', `gpk_${'a'.repeat(24)}`, '--id-token-alg', 'none', '--json']),
      cli(['keys', 'create', ...tenant(), '--post-logout-redirect-uri', 'http://spa.example/bye', '--json']),
    ]);
    for (const run of [hmac, update]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--id-token-alg must be RS256 or ES256');
    }
    expect(badUri.code).toBe(1);
    expect(cliError(badUri)).toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/https/),
    });
  });
});
