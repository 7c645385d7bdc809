import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { describeDatabase } from '../src/cli/context.ts';
import { cliError, cliJson, freshDatabase, runCli as run } from './helpers/cli.ts';
import { describeEachDialect, testConfig } from './helpers/test-app.ts';

const SECRET = 'cli-test-secret-cli-test-secret-0123456789';
const PASSWORD = 'a long enough passphrase';
/**
 * For tests that run the CLI several times: each run starts Node and tsx (about 2 s of CPU), so a
 * handful of runs can outlast the default timeout on a busy machine.
 */
const SEVERAL_RUNS_MS = 120_000;

describeEachDialect('gatehouse CLI', (dialect) => {
  let db: { url: string; drop: () => Promise<void> };
  let cwd: string;
  beforeAll(async () => {
    db = await freshDatabase(dialect);
    // Any stray file the CLI might write lands here, not in the repository.
    cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-cwd-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { GATEHOUSE_DATABASE_URL: db.url, ...env }, cwd);

  let tenantId: number;
  let workspaceId: number;
  let key: { publicKey: string; privateKey: string };

  it('refuses a weak password with a clear message and creates nothing', async () => {
    const run = await cli([
      'init',
      '--email',
      'owner@example.com',
      '--password',
      'short',
      '--organization',
      'Org',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/password must be at least 12 characters/);
    const again = await cli([
      'init',
      '--email',
      'owner@example.com',
      '--password',
      'short',
      '--organization',
      'Org',
      '--json',
    ]);
    expect(cliError(again)).toEqual({
      code: 'validation_failed',
      message: expect.stringMatching(/12 characters/),
    });
  });

  it('init --json prints exactly {tenantId, workspaceId, userId} and nothing else on stdout', async () => {
    const run = await cli([
      'init',
      '--email',
      'owner@example.com',
      '--password',
      PASSWORD,
      '--organization',
      'My data company',
      '--workspace',
      'Main',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const created = json(run);
    expect(Object.keys(created).sort()).toEqual(['tenantId', 'userId', 'workspaceId']);
    expect(created).toEqual({
      tenantId: expect.any(Number),
      workspaceId: expect.any(Number),
      userId: expect.any(Number),
    });
    tenantId = created.tenantId;
    workspaceId = created.workspaceId;
  });

  it('refuses a second init and points to tenants create', async () => {
    const run = await cli([
      'init',
      '--email',
      'other@example.com',
      '--password',
      PASSWORD,
      '--organization',
      'Again',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already initialized/);
    expect(run.stderr).toMatch(/gatehouse tenants create/);
  });

  it('tenants create takes the password from GATEHOUSE_INIT_PASSWORD', async () => {
    const run = await cli(
      [
        'tenants',
        'create',
        '--label',
        'Second org',
        '--owner-email',
        'second@example.com',
        '--workspace',
        'W',
        '--json',
      ],
      { GATEHOUSE_INIT_PASSWORD: PASSWORD },
    );
    expect(run.code, run.stderr).toBe(0);
    const created = json(run);
    expect(Object.keys(created).sort()).toEqual(['tenantId', 'userId', 'workspaceId']);
    expect(created.tenantId).not.toBe(tenantId);
  });

  it('tenants create without any password is a usage error naming both ways to give one', async () => {
    const run = await cli(['tenants', 'create', '--label', 'X', '--owner-email', 'x@example.com']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--owner-password.*GATEHOUSE_INIT_PASSWORD/);
  });

  it('workspaces create prints the workspace in the API shape', async () => {
    const run = await cli([
      'workspaces',
      'create',
      '--tenant',
      String(tenantId),
      '--label',
      'Extra',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toEqual({
      id: expect.any(Number),
      tenantId,
      label: 'Extra',
      logoUrl: null,
      state: 'Active',
      permissions: null,
      dataSubjectArchivedRetentionDays: null,
      nbEntities: 0,
    });
  });

  it('keys create prints the private key once, with the public key and settings', async () => {
    const run = await cli([
      'keys',
      'create',
      '--tenant',
      String(tenantId),
      '--label',
      'CLI key',
      '--cors-origin',
      'https://app.example',
      '--redirect-uri',
      'https://app.example/callback',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const created = json(run);
    expect(created.publicKey).toMatch(/^gpk_[0-9A-Za-z]{24}$/);
    expect(created.privateKey).toMatch(/^gsk_[0-9A-Za-z]{49}$/);
    expect(created).toMatchObject({
      tenantId,
      workspaceId: null,
      label: 'CLI key',
      corsOrigins: ['https://app.example'],
      redirectUris: ['https://app.example/callback'],
      expiresAt: null,
    });
    key = { publicKey: created.publicKey, privateKey: created.privateKey };
  });

  it('keys list shows the keys with their last 4 characters, never a private key', async () => {
    const run = await cli(['keys', 'list', '--tenant', String(tenantId), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const listed = json(run);
    expect(listed.total).toBe(1);
    expect(listed.items[0]).toMatchObject({
      publicKey: key.publicKey,
      last4: key.privateKey.slice(-4),
      revokedAt: null,
    });
    expect(listed.items[0]).not.toHaveProperty('privateKey');
    const human = await cli(['keys', 'list', '--tenant', String(tenantId)]);
    for (const output of [run.stdout, run.stderr, human.stdout, human.stderr]) {
      expect(output).not.toContain(key.privateKey);
      expect(output).not.toContain(key.privateKey.slice(4, 30));
    }
  });

  it('the key it created authenticates against an app on the same database', async () => {
    const app = await appOn(db.url);
    try {
      const res = await app.inject({ method: 'GET', url: '/me', headers: { 'x-api-key': key.privateKey } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        authMethod: 'apiKey',
        tenantId,
        apiKey: { publicKey: key.publicKey },
      });
    } finally {
      await app.close();
    }
  });

  it(
    'tenants list, workspaces list, users list and keys show print what was made, each naming the database on stderr',
    async () => {
      const [tenantsRun, workspacesRun, usersRun, shown, shownHuman] = await Promise.all([
        cli(['tenants', 'list', '--json']),
        cli(['workspaces', 'list', '--tenant', String(tenantId), '--json']),
        cli(['users', 'list', '--tenant', String(tenantId), '--json']),
        cli(['keys', 'show', key.publicKey, '--json']),
        cli(['keys', 'show', key.publicKey]),
      ]);
      for (const run of [tenantsRun, workspacesRun, usersRun, shown, shownHuman]) {
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toBe(`gatehouse: database ${describeDatabase(db.url)}\n`);
      }
      expect(json(tenantsRun)).toEqual({
        items: [
          { id: tenantId, label: 'My data company', createdAt: expect.stringMatching(/^\d{4}-/) },
          expect.objectContaining({ label: 'Second org' }),
        ],
        total: 2,
      });
      expect(json(workspacesRun).items).toEqual([
        expect.objectContaining({ id: workspaceId, tenantId, label: 'Main', state: 'Active' }),
        expect.objectContaining({ tenantId, label: 'Extra', state: 'Active' }),
      ]);
      expect(json(usersRun)).toEqual({
        items: [expect.objectContaining({ email: 'owner@example.com', role: 'owner', workspaceIds: null })],
        total: 1,
      });
      expect(json(shown)).toMatchObject({
        publicKey: key.publicKey,
        tenantId,
        label: 'CLI key',
        status: 'active',
        last4: key.privateKey.slice(-4),
        corsOrigins: ['https://app.example'],
      });
      expect(json(shown)).not.toHaveProperty('privateKey');
      expect(shownHuman.stdout).toMatch(new RegExp(`public key \\(client_id\\):\\s+${key.publicKey}`));
      expect(shownHuman.stdout).toContain(`…${key.privateKey.slice(-4)}`);
      for (const run of [shown, shownHuman]) expect(run.stdout).not.toContain(key.privateKey.slice(4, 30));
    },
    SEVERAL_RUNS_MS,
  );

  it(
    'token prints an access token from a running server, the private key taken from GATEHOUSE_PRIVATE_KEY',
    async () => {
      const app = await appOn(db.url);
      try {
        await app.listen({ host: '127.0.0.1', port: 0 });
        const address = app.server.address();
        const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
        const [plain, asJson, wrong] = await Promise.all([
          cli(['token', '--public-key', key.publicKey, '--issuer', issuer], {
            GATEHOUSE_PRIVATE_KEY: key.privateKey,
          }),
          cli([
            'token',
            '--public-key',
            key.publicKey,
            '--private-key',
            key.privateKey,
            '--issuer',
            issuer,
            '--json',
          ]),
          cli(['token', '--public-key', key.publicKey, '--issuer', issuer, '--json'], {
            GATEHOUSE_PRIVATE_KEY: `${key.privateKey.slice(0, -4)}XXXX`,
          }),
        ]);
        // The token alone, so that TOKEN=$(gatehouse token ...) works; no database is involved.
        expect([plain.code, plain.stderr]).toEqual([0, '']);
        const token = plain.stdout.trim();
        expect(plain.stdout).toBe(`${token}\n`);
        expect(token.split('.')).toHaveLength(3);
        expect(json(asJson)).toEqual({
          access_token: expect.any(String),
          token_type: 'Bearer',
          expires_in: expect.any(Number),
          scope: 'api1',
        });
        expect(wrong.code).toBe(1);
        expect(cliError(wrong)).toEqual({ code: 'invalid_client', message: expect.stringContaining(issuer) });
        for (const bearer of [token, json(asJson).access_token]) {
          const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${bearer}` } });
          expect(res.statusCode).toBe(200);
          expect(res.json()).toMatchObject({ tenantId });
        }
      } finally {
        await app.close();
      }
    },
    SEVERAL_RUNS_MS,
  );

  it('keys rotate issues a new private key and keeps the old one for the grace period', async () => {
    const run = await cli(['keys', 'rotate', key.publicKey, '--grace', '1h', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const rotated = json(run);
    expect(rotated.privateKey).toMatch(/^gsk_/);
    expect(rotated.privateKey).not.toBe(key.privateKey);
    expect(Date.parse(rotated.previousKeyExpiresAt)).toBeGreaterThan(Date.now() + 50 * 60_000);
    const app = await appOn(db.url);
    try {
      for (const secret of [key.privateKey, rotated.privateKey]) {
        const res = await app.inject({ method: 'GET', url: '/me', headers: { 'x-api-key': secret } });
        expect(res.statusCode).toBe(200);
      }
    } finally {
      await app.close();
    }
    key = { ...key, privateKey: rotated.privateKey };
  });

  it('keys revoke makes the key fail at once', async () => {
    const run = await cli(['keys', 'revoke', key.publicKey, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run).revokedAt).toEqual(expect.any(String));
    expect(run.stdout).not.toContain(key.privateKey);
    const app = await appOn(db.url);
    try {
      const res = await app.inject({ method: 'GET', url: '/me', headers: { 'x-api-key': key.privateKey } });
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toMatch(/revoked/);
    } finally {
      await app.close();
    }
  });

  /** `keys create ... --json` for this organization, which must succeed; the created key as printed. */
  async function createKey(...args: string[]) {
    const run = await cli(['keys', 'create', '--tenant', String(tenantId), ...args, '--json']);
    expect(run.code, run.stderr).toBe(0);
    return json(run);
  }
  /** The public keys `keys list` prints for this organization with `args`. */
  async function listed(...args: string[]): Promise<{ publicKey: string; workspaceId: number | null }[]> {
    const run = await cli(['keys', 'list', '--tenant', String(tenantId), ...args, '--json']);
    expect(run.code, run.stderr).toBe(0);
    return json(run).items;
  }

  it(
    'keys create --permissions sets the permissions; an unknown one is a usage error',
    async () => {
      const [read, unknown, workspaceAdmin] = await Promise.all([
        createKey('--label', 'Reader', '--permissions', 'read'),
        cli(['keys', 'create', '--tenant', String(tenantId), '--permissions', 'root']),
        cli([
          'keys',
          'create',
          '--tenant',
          String(tenantId),
          '--workspace',
          String(workspaceId),
          '--permissions',
          'admin',
        ]),
      ]);
      expect(read).toMatchObject({ label: 'Reader', permissions: 'read', workspaceId: null });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/--permissions must be read, write or admin/);
      // DESIGN.md 1: a workspace key cannot be an admin key, whoever creates it.
      expect(workspaceAdmin.code).toBe(1);
      expect(workspaceAdmin.stderr).toMatch(/workspace key cannot be an admin key/);
      const app = await appOn(db.url);
      try {
        const res = await app.inject({
          method: 'GET',
          url: '/me',
          headers: { 'x-api-key': read.privateKey },
        });
        expect(res.json().permissions).toBe('read');
      } finally {
        await app.close();
      }
    },
    SEVERAL_RUNS_MS,
  );

  it(
    'keys update changes label, redirect URIs, CORS origins and expiry; --no-* options clear them',
    async () => {
      const created = await createKey('--label', 'To update');
      const run = await cli([
        'keys',
        'update',
        created.publicKey,
        '--label',
        'Updated',
        '--redirect-uri',
        'https://updated.example/callback',
        '--redirect-uri',
        'http://127.0.0.1:9000/callback',
        '--cors-origin',
        'https://updated.example',
        '--expires-in',
        '30d',
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const updated = json(run);
      expect(updated).toMatchObject({
        publicKey: created.publicKey,
        label: 'Updated',
        redirectUris: ['https://updated.example/callback', 'http://127.0.0.1:9000/callback'],
        corsOrigins: ['https://updated.example'],
      });
      expect(Date.parse(updated.expiresAt)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
      const cleared = await cli([
        'keys',
        'update',
        created.publicKey,
        '--no-redirect-uris',
        '--no-cors-origins',
        '--no-expiry',
        '--json',
      ]);
      expect(cleared.code, cleared.stderr).toBe(0);
      expect(json(cleared)).toMatchObject({
        label: 'Updated',
        redirectUris: [],
        corsOrigins: [],
        expiresAt: null,
      });
    },
    SEVERAL_RUNS_MS,
  );

  it(
    'keys update refuses bad input (a plain-http redirect URI, a CORS origin with a path) and changes nothing',
    async () => {
      const created = await createKey('--label', 'Stays', '--redirect-uri', 'https://stays.example/cb');
      const [http, path] = await Promise.all([
        cli(['keys', 'update', created.publicKey, '--redirect-uri', 'http://stays.example/cb']),
        cli([
          'keys',
          'update',
          created.publicKey,
          '--label',
          'Moved',
          '--cors-origin',
          'https://stays.example/app',
        ]),
      ]);
      expect(http.code).toBe(1);
      expect(http.stderr).toMatch(/https/);
      expect(path.code).toBe(1);
      expect(path.stderr).toMatch(/CORS origin/);
      expect(await listed('--search', 'Stays')).toEqual([
        expect.objectContaining({
          publicKey: created.publicKey,
          label: 'Stays',
          redirectUris: ['https://stays.example/cb'],
          corsOrigins: [],
        }),
      ]);
      expect(await listed('--search', 'Moved')).toEqual([]);
    },
    SEVERAL_RUNS_MS,
  );

  it(
    'keys list filters by --status, --workspace and --search',
    async () => {
      const [inWorkspace, expiring] = await Promise.all([
        createKey('--label', 'Filter workspace key', '--workspace', String(workspaceId)),
        createKey('--label', 'Filter expiring key', '--expires-in', '1s'),
      ]);
      await new Promise((done) =>
        setTimeout(done, Math.max(0, Date.parse(expiring.expiresAt) - Date.now()) + 50),
      );
      const keys = (items: { publicKey: string }[]) => items.map((item) => item.publicKey);
      // `key` was revoked by the tests above.
      const [active, revoked, expired, workspace, search, bad] = await Promise.all([
        listed('--status', 'active'),
        listed('--status', 'revoked'),
        listed('--status', 'expired'),
        listed('--workspace', String(workspaceId)),
        listed('--search', 'FILTER WORKSPACE'),
        cli(['keys', 'list', '--tenant', String(tenantId), '--status', 'dormant']),
      ]);
      expect(keys(active)).toContain(inWorkspace.publicKey);
      expect(keys(active)).not.toContain(key.publicKey);
      expect(keys(active)).not.toContain(expiring.publicKey);
      expect(keys(revoked)).toEqual([key.publicKey]);
      expect(keys(expired)).toEqual([expiring.publicKey]);
      expect(keys(workspace)).toEqual([inWorkspace.publicKey]);
      expect(workspace[0]?.workspaceId).toBe(workspaceId);
      expect(keys(search)).toEqual([inWorkspace.publicKey]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--status must be active, revoked or expired/);
    },
    SEVERAL_RUNS_MS,
  );

  it('keys list shows an expired key as expired, not active, in its human output', async () => {
    const run = await cli(['keys', 'list', '--tenant', String(tenantId), '--status', 'expired']);
    expect(run.code, run.stderr).toBe(0);
    const [line, ...more] = run.stdout.trim().split('\n');
    expect(more).toEqual([]);
    expect(line).toMatch(/Filter expiring key/);
    expect(line).toMatch(/\bexpired\b/);
    expect(line).not.toMatch(/\bactive\b/);
  });

  it(
    'keys revoke run twice succeeds both times and writes one api_key.revoked audit event',
    async () => {
      const created = await createKey('--label', 'Revoked twice');
      const first = await cli(['keys', 'revoke', created.publicKey, '--json']);
      const second = await cli(['keys', 'revoke', created.publicKey, '--json']);
      expect([first.code, second.code], first.stderr + second.stderr).toEqual([0, 0]);
      expect(json(second).revokedAt).toBe(json(first).revokedAt);
      const run = await cli([
        'audit',
        'list',
        '--tenant',
        String(tenantId),
        '--action',
        'api_key.revoked',
        '--size',
        '500',
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const events = json(run).items.filter(
        (event: { target: string }) => event.target === created.publicKey,
      );
      expect(events).toEqual([expect.objectContaining({ action: 'api_key.revoked', actor: 'cli' })]);
    },
    SEVERAL_RUNS_MS,
  );
});

/** The CLI with this file's secret. */
const runCli = (args: string[], env: Record<string, string>, cwd: string) =>
  run(args, { GATEHOUSE_SECRET: SECRET, ...env }, cwd);

const json = cliJson;

function appOn(url: string): Promise<FastifyInstance> {
  return buildApp(testConfig({ GATEHOUSE_DATABASE_URL: url }), { keyCache: { pollMs: 50 } });
}
