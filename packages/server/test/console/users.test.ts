import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember } from '../../src/domain/members.ts';
import { checkCredentials } from '../../src/domain/users.ts';
import { CLI } from '../helpers/cli.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

describeEachDialect('users: members of organizations', (dialect) => {
  const ctx = useSeededApp(dialect);

  const add = (input: Partial<Parameters<typeof addMember>[1]>) =>
    addMember(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, email: 'x@a.test', password: PASSWORD, role: 'member', ...input },
      CLI_ACTOR,
    );

  it('creates a new account with a scrypt hash and the role, and audits it', async () => {
    const added = await add({ email: 'New.Person@A.test', role: 'admin', displayName: 'New Person' });
    expect(added).toMatchObject({
      user: { email: 'new.person@a.test', displayName: 'New Person' },
      role: 'admin',
      workspaceIds: null,
      created: true,
    });
    const row = await ctx.app.services.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', added.user.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
    expect((await checkCredentials(ctx.app.services.db, 'new.person@a.test', PASSWORD)).ok).toBe(true);
  });

  it('adds an existing account of another organization as a member, keeping its own password', async () => {
    const added = await add({ email: 'owner@b.test', password: 'an attacker-chosen password' });
    expect(added).toMatchObject({ user: { id: ctx.seed.b.userId }, created: false, role: 'member' });
    expect((await checkCredentials(ctx.app.services.db, 'owner@b.test', PASSWORD)).ok).toBe(true);
    expect(
      (await checkCredentials(ctx.app.services.db, 'owner@b.test', 'an attacker-chosen password')).ok,
    ).toBe(false);
    const users = await ctx.app.services.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'owner@b.test')
      .execute();
    expect(users).toHaveLength(1);
  });

  it('limits a member to the workspaces given', async () => {
    const added = await add({ email: 'limited@a.test', workspaceIds: [ctx.seed.a.secondWorkspaceId] });
    expect(added.workspaceIds).toEqual([ctx.seed.a.secondWorkspaceId]);
  });

  it.each([
    ['an existing member', { email: 'owner@a.test' }, 'conflict'],
    ['an unknown role', { email: 'r@a.test', role: 'root' }, 'validation_failed'],
    ['a bad email', { email: 'not-an-email' }, 'validation_failed'],
    ['a short password', { email: 'short@a.test', password: 'short' }, 'validation_failed'],
    ['a workspace of another tenant', { email: 'w@a.test', workspaceIds: [9999] }, 'validation_failed'],
    [
      'workspace limits on an admin',
      { email: 'adm@a.test', role: 'admin', workspaceIds: [1] },
      'validation_failed',
    ],
    ['an unknown organization', { email: 'o@a.test', tenantId: 9999 }, 'not_found'],
  ])('refuses %s', async (_name, input, code) => {
    await expect(add(input)).rejects.toMatchObject({ code });
  });
});

const run = promisify(execFile);
const BIN = CLI;

describe('gatehouse users create (CLI, SQLite)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    env = {
      ...process.env,
      GATEHOUSE_DATABASE_URL: join(dir, 'cli.db'),
      GATEHOUSE_SECRET: 'cli-test-secret-cli-test-secret-0000',
    };
    await run(
      process.execPath,
      [
        BIN,
        'init',
        '--email',
        'owner@cli.test',
        '--password',
        PASSWORD,
        '--organization',
        'CLI org',
        '--json',
      ],
      { env },
    );
    await run(
      process.execPath,
      [
        BIN,
        'tenants',
        'create',
        '--label',
        'Second org',
        '--owner-email',
        'boss@cli.test',
        '--owner-password',
        PASSWORD,
      ],
      { env },
    );
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const users = async (...args: string[]) => {
    try {
      const { stdout } = await run(process.execPath, [BIN, 'users', 'create', ...args, '--json'], { env });
      return { code: 0, json: JSON.parse(stdout) };
    } catch (error) {
      // Errors go to stderr, as one JSON line with --json; stdout holds results only.
      const failed = error as { code: number; stdout: string; stderr: string };
      expect(failed.stdout).toBe('');
      const line = failed.stderr.trim().split('\n').at(-1) ?? '';
      return { code: failed.code, json: JSON.parse(line) };
    }
  };

  it('creates a member limited to a workspace and prints JSON, never the password', async () => {
    const res = await users(
      '--tenant',
      '1',
      '--email',
      'dev@cli.test',
      '--password',
      PASSWORD,
      '--role',
      'member',
      '--workspace',
      '1',
    );
    expect(res).toEqual({
      code: 0,
      json: {
        id: expect.any(Number),
        email: 'dev@cli.test',
        displayName: null,
        tenantId: 1,
        role: 'member',
        workspaceIds: [1],
        created: true,
      },
    });
    expect(JSON.stringify(res.json)).not.toContain(PASSWORD);
  }, 30_000);

  it('adds an existing user of another organization without a password', async () => {
    const res = await users('--tenant', '2', '--email', 'dev@cli.test', '--role', 'admin');
    expect(res.json).toMatchObject({ email: 'dev@cli.test', tenantId: 2, role: 'admin', created: false });
  }, 30_000);

  it('answers a bad role as a usage error: exit 2 and a JSON error on stderr', async () => {
    const res = await users(
      '--tenant',
      '1',
      '--email',
      'x@cli.test',
      '--password',
      PASSWORD,
      '--role',
      'god',
    );
    expect(res.code).toBe(2);
    expect(res.json.error).toEqual({ code: 'usage', message: '--role must be owner, admin or member' });
  }, 30_000);
});
