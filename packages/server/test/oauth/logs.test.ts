import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open } from '../../src/domain/key-encryption.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import { CLI } from '../helpers/cli.ts';
import { wait } from '../helpers/http.ts';
import { type Seed, seed } from '../helpers/seed.ts';
import { basicOf, form } from './oauth-helpers.ts';

const SECRET = 'log-test-secret-log-test-secret-log-test';

/**
 * DESIGN.md 3 rule 1: secrets never reach the logs. The real server (`gatehouse serve`, pino at trace
 * level) runs as a child process so that its actual output is captured; it uses SQLite because logging
 * does not depend on the dialect.
 */
describe('server logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-logs-'));
  const database = join(dir, 'db.sqlite');
  let child: ChildProcess;
  let output = '';
  let base = '';
  let storage: Storage;
  let s: Seed;

  beforeAll(async () => {
    storage = openStorage(database);
    child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        ...process.env,
        GATEHOUSE_DATABASE_URL: database,
        GATEHOUSE_SECRET: SECRET,
        GATEHOUSE_PORT: '0',
        GATEHOUSE_LOG_LEVEL: 'trace',
      },
    });
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    for (let i = 0; i < 200 && !base; i++) {
      base = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
      await wait(50);
    }
    if (!base) throw new Error(`server did not start:\n${output}`);
    s = await seed(storage.db);
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });

  it('contains no private key, access token or signing key after OAuth and API traffic', async () => {
    const basic = await post('/connect/token', form({ grant_type: 'client_credentials' }), {
      authorization: basicOf(s.orgKeyA),
    });
    const { access_token: token } = (await basic.json()) as { access_token: string };
    const viaPost = await post(
      '/connect/token',
      form({
        grant_type: 'client_credentials',
        client_id: s.orgKeyB.key.publicKey,
        client_secret: s.orgKeyB.privateKey,
      }),
    );
    expect(viaPost.status).toBe(200);
    await post('/connect/token', form({ grant_type: 'client_credentials' }), {
      authorization: basicOf({ key: s.orgKeyA.key, privateKey: s.workspaceKeyA.privateKey }),
    });
    await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}x` } });
    await fetch(`${base}/v1/workspaces`, { headers: { 'x-api-key': s.workspaceKeyA.privateKey } });
    await fetch(`${base}/v1/workspaces?apiKey=${s.workspaceKeyA.privateKey}`);
    await post('/connect/introspect', form({ token }), { authorization: basicOf(s.orgKeyA) });
    await post('/connect/revocation', form({ token }), { authorization: basicOf(s.orgKeyA) });
    // The admin API answers private keys; a new member's one-time sign-in link carries its token in the query.
    const admin = { 'x-api-key': s.adminKeyA.privateKey, 'content-type': 'application/json' };
    const created = await fetch(`${base}/v1/api-keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ label: 'logged?' }),
    });
    const { privateKey: createdKey, publicKey } = (await created.json()) as Record<string, string>;
    const rotated = await fetch(`${base}/v1/api-keys/${publicKey}/rotate`, {
      method: 'POST',
      headers: admin,
      body: '{}',
    });
    const { privateKey: rotatedKey } = (await rotated.json()) as Record<string, string>;
    const member = await fetch(`${base}/v1/members`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ email: 'linked@a.test', role: 'member' }),
    });
    const { signInLink } = (await member.json()) as Record<string, string>;
    const link = new URL(signInLink ?? 'http://missing/');
    expect((await fetch(`${base}${link.pathname}${link.search}`)).status).toBe(200);
    await wait(200);

    const [row] = await storage.db.selectFrom('signing_keys').selectAll().where('active', '=', 1).execute();
    const d = (
      JSON.parse(open(SECRET, String(row?.kid), String(row?.private_jwk_encrypted))) as { d: string }
    ).d;

    expect(output).toMatch(/\/connect\/token/);
    const secrets = {
      token,
      signature: token.split('.')[2] ?? '',
      privateKeyA: s.orgKeyA.privateKey,
      privateKeyB: s.orgKeyB.privateKey,
      privateKeyWorkspace: s.workspaceKeyA.privateKey,
      basicCredentials: basicOf(s.orgKeyA).slice(6),
      signingKey: d,
      serverSecret: SECRET,
      createdKey: createdKey ?? 'missing',
      rotatedKey: rotatedKey ?? 'missing',
      signInToken: new URL(signInLink ?? 'http://x/?token=missing').searchParams.get('token') ?? 'missing',
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(output.includes(secret), `${name} appears in the logs`).toBe(false);
    }
  });
});
