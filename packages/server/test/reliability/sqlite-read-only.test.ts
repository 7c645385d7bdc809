import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import { Browser, codeFor, tokenRequest } from '../helpers/authorization-flow.ts';
import { basicAuth, postForm } from '../helpers/http.ts';
import { PASSWORD, type Seed, seed } from '../helpers/seed.ts';
import { testConfig } from '../helpers/test-app.ts';
import { OAUTH_ENV } from '../oauth/oauth-helpers.ts';

/*
 * How the disk is made read-only. A read-only remount is refused (EBUSY) while SQLite holds its files
 * open for writing, and a filesystem the kernel forced read-only after an error stays so until it is
 * unmounted, which a running server cannot survive. So the database file, its WAL and their folder
 * are made immutable (chattr +i): every write through the descriptors SQLite holds then fails (EPERM),
 * as it fails with EROFS on a read-only disk, and SQLite reports both as SQLITE_IOERR_WRITE. The
 * shared-memory index (-shm) stays writable: SQLite maps it into memory, and a store to a mapped page
 * of an immutable file kills the process (SIGBUS) instead of failing a call.
 */

/** Why immutable files cannot stand in for a read-only disk here, or null when they can. */
function whyNoReadOnlyDisk(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ro-probe-'));
  const probe = join(dir, 'probe');
  writeFileSync(probe, 'a');
  const fd = openSync(probe, 'a');
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'pipe' });
    try {
      writeSync(fd, 'b');
      return `an immutable file still takes writes under ${tmpdir()}`;
    } catch {
      return null;
    } finally {
      execFileSync('chattr', ['-i', probe], { stdio: 'pipe' });
    }
  } catch (error) {
    return `chattr +i does not work under ${tmpdir()}: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

const skipReason = whyNoReadOnlyDisk();

/** The bound on any answer while the disk refuses writes (the PostgreSQL outage's, README). */
const ANSWER_WITHIN_MS = 2000;

const REDIRECT = 'https://app.example/callback';

/** Every table a request may write: none of them may change while the disk refuses writes. */
const TABLES = [
  'workspaces',
  'api_keys',
  'api_key_secrets',
  'invalidations',
  'revoked_tokens',
  'sessions',
  'consents',
  'authorization_codes',
  'refresh_tokens',
  'grant_access_tokens',
  'audit_events',
  'key_usage',
] as const;

describe.skipIf(skipReason !== null)(
  `SQLite on a disk that stops taking writes${skipReason ? ` [skipped: ${skipReason}]` : ''}`,
  () => {
    let dir: string;
    let file: string;
    /** Makes the database file, its WAL and their folder immutable (`+i`), or writable again (`-i`). */
    const setImmutable = (flag: '+i' | '-i') => {
      const paths = [dir, file, `${file}-wal`].filter((path) => existsSync(path));
      execFileSync('chattr', [flag, ...paths], { stdio: 'pipe' });
    };

    let storage: Storage;
    let app: FastifyInstance;
    let s: Seed;
    let client: { publicKey: string; privateKey: string };
    let owner: Browser;
    /** A refresh token, a code and an access token issued before the fault, and used during it. */
    let refreshToken: string;
    let code: string;
    let accessToken: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-ro-'));
      file = join(dir, 'gatehouse.db');
      storage = openStorage(file);
      // Batched writes are flushed by the test only, so that it sees what waits through the fault.
      app = await buildApp(testConfig(OAUTH_ENV), {
        storage,
        keyCache: { pollMs: 50, flushMs: 3_600_000 },
        usageFlushMs: 3_600_000,
      });
      s = await seed(app.services.db);
      client = { publicKey: s.orgKeyA.key.publicKey, privateKey: s.orgKeyA.privateKey };
      owner = new Browser(app);
      expect((await owner.signIn('owner@a.test', PASSWORD)).statusCode).toBe(303);
      const grant = await tokenRequest(app, client, {
        grant_type: 'authorization_code',
        code: await codeFor(owner, client.publicKey),
        redirect_uri: REDIRECT,
      });
      expect(grant.statusCode, grant.body).toBe(200);
      refreshToken = grant.json().refresh_token;
      accessToken = grant.json().access_token;
      code = await codeFor(owner, client.publicKey);
      expect((await me({ 'x-api-key': client.privateKey })).statusCode).toBe(200);
      expect((await me({ authorization: `Bearer ${accessToken}` })).statusCode).toBe(200);
      await app.services.keys.flush();
      await app.services.usage.flush();
      // WAL mode: SQLite writes into the WAL file, which exists from the first write on.
      expect(existsSync(`${file}-wal`)).toBe(true);
    });

    afterAll(async () => {
      if (!dir) return;
      setImmutable('-i');
      await app?.close();
      await storage?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const me = (headers: Record<string, string>) => app.inject({ url: '/me', headers });
    const asAdmin = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      app.inject({
        method,
        url,
        headers: { 'x-api-key': s.adminKeyA.privateKey },
        ...(payload ? { payload } : {}),
      });
    const revoke = (token: string) =>
      postForm(
        app,
        '/connect/revocation',
        { token },
        { authorization: basicAuth(client.publicKey, client.privateKey) },
      );
    const refresh = () =>
      tokenRequest(app, client, { grant_type: 'refresh_token', refresh_token: refreshToken });
    const exchange = () =>
      tokenRequest(app, client, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT });

    /** Sends a request and fails the test when its answer took longer than {@link ANSWER_WITHIN_MS}. */
    async function bounded(work: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
      const started = performance.now();
      const res = await work();
      expect(performance.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
      return res;
    }

    async function rowCounts(): Promise<Record<string, number>> {
      const counts: Record<string, number> = {};
      for (const table of TABLES) {
        const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(
          app.services.db,
        );
        counts[table] = Number(rows[0]?.n);
      }
      return counts;
    }

    const expectProblem503 = (res: LightMyRequestResponse) => {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({
        type: 'urn:gatehouse:problem:service_unavailable',
        status: 503,
        code: 'service_unavailable',
        detail: 'the database is unavailable; retry shortly',
      });
      expect(res.body).not.toMatch(/SQLITE|I\/O|stack/i);
    };
    const expectOAuth503 = (res: LightMyRequestResponse) => {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'the database is unavailable; retry shortly',
      });
    };
    const expectPage503 = (res: LightMyRequestResponse) => {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers.location).toBeUndefined();
    };

    it('while the disk refuses writes: reads answer 200, every write answers 503 in its endpoint format within 2 s, and nothing is written', async () => {
      const victim = s.workspaceKeyA;
      const before = await rowCounts();
      setImmutable('+i');

      // Reads need no write: API keys (cached, or looked up), tokens, lists, the audit log.
      for (const headers of [
        { 'x-api-key': client.privateKey },
        { 'x-api-key': s.orgKeyB.privateKey },
        { authorization: `Bearer ${accessToken}` },
      ])
        expect((await bounded(() => me(headers))).statusCode).toBe(200);
      for (const url of ['/v1/workspaces', '/v1/api-keys', '/v1/audit-events'])
        expect((await bounded(() => asAdmin('GET', url))).statusCode).toBe(200);
      // A client-credentials token is signed, not stored: it is issued, and it works.
      const issued = await bounded(() =>
        postForm(
          app,
          '/connect/token',
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(s.orgKeyB.key.publicKey, s.orgKeyB.privateKey) },
        ),
      );
      expect(issued.statusCode, issued.body).toBe(200);
      expect((await me({ authorization: `Bearer ${issued.json().access_token}` })).statusCode).toBe(200);
      // Readiness asks whether the database answers, and it does: it stays 200 (documented).
      expect((await bounded(() => app.inject({ url: '/readyz' }))).json()).toMatchObject({
        checks: { database: 'up' },
      });

      // REST writes: a 503 problem, never a 2xx for a change that was not made.
      expectProblem503(
        await bounded(() => asAdmin('POST', '/v1/api-keys', { label: 'made while read-only' })),
      );
      expectProblem503(
        await bounded(() => asAdmin('PATCH', `/v1/api-keys/${victim.key.publicKey}`, { label: 'renamed' })),
      );
      expectProblem503(
        await bounded(() =>
          asAdmin('POST', `/v1/api-keys/${victim.key.publicKey}/rotate`, { graceSeconds: 0 }),
        ),
      );
      expectProblem503(await bounded(() => asAdmin('DELETE', `/v1/api-keys/${victim.key.publicKey}`)));
      expectProblem503(
        await bounded(() => asAdmin('POST', '/v1/workspaces', { label: 'made while read-only' })),
      );

      // OAuth writes: RFC 6749 JSON, temporarily_unavailable (RFC 7009 2.2.1 for revocation).
      expectOAuth503(await bounded(refresh));
      expectOAuth503(await bounded(exchange));
      expectOAuth503(await bounded(() => revoke(refreshToken)));
      expectOAuth503(await bounded(() => revoke(accessToken)));

      // Pages that write (a session, a code): an error page, never a redirect.
      const stranger = new Browser(app);
      expectPage503(await bounded(() => stranger.signIn('owner@b.test', PASSWORD)));
      expectPage503(
        await bounded(() =>
          owner.get(
            `/connect/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.publicKey, redirect_uri: REDIRECT, scope: 'api1', state: 's' })}`,
          ),
        ),
      );

      // Nothing was written, so nothing refused took effect: the key keeps its label and its secret.
      expect(await rowCounts()).toEqual(before);
      const victimNow = await asAdmin('GET', `/v1/api-keys/${victim.key.publicKey}`);
      expect(victimNow.json()).toMatchObject({ label: victim.key.label, status: 'active' });
      expect((await me({ 'x-api-key': victim.privateKey })).statusCode).toBe(200);
      // The one exception, on purpose: this instance refuses an access token from the moment its
      // revocation is asked, even when the revocation is not recorded (domain/revocations.ts).
      expect((await me({ authorization: `Bearer ${accessToken}` })).statusCode).toBe(401);

      // Batched last-used times and usage counts cannot be written, and are kept.
      await expect(app.services.keys.flush()).rejects.toMatchObject({ code: 'SQLITE_IOERR_WRITE' });
      await expect(app.services.usage.flush()).rejects.toMatchObject({ code: 'SQLITE_IOERR_WRITE' });
      expect(app.services.keys.pendingLastUsed).toBeGreaterThan(0);
      expect(app.services.usage.pendingCount).toBeGreaterThan(0);
    });

    it('once the disk takes writes again, the same server makes each refused write, and the grants refused stay usable', async () => {
      setImmutable('-i');

      const created = await asAdmin('POST', '/v1/api-keys', { label: 'made after the fault' });
      expect(created.statusCode, created.body).toBe(201);
      expect((await me({ 'x-api-key': created.json().privateKey })).statusCode).toBe(200);
      // Refused during the fault, so never used: the refresh token rotates and the code exchanges once.
      expect((await refresh()).statusCode).toBe(200);
      expect((await exchange()).statusCode).toBe(200);
      expect((await asAdmin('DELETE', `/v1/api-keys/${s.workspaceKeyA.key.publicKey}`)).statusCode).toBe(204);
      expect((await me({ 'x-api-key': s.workspaceKeyA.privateKey })).statusCode).toBe(401);
      expect((await new Browser(app).signIn('owner@b.test', PASSWORD)).statusCode).toBe(303);

      // What waited in memory is written by the next flush.
      await app.services.keys.flush();
      await app.services.usage.flush();
      expect(app.services.keys.pendingLastUsed).toBe(0);
      expect(app.services.usage.pendingCount).toBe(0);
      const lastUsed = await app.services.db
        .selectFrom('api_keys')
        .select('last_used_at')
        .where('id', '=', s.orgKeyB.key.id)
        .executeTakeFirstOrThrow();
      expect(lastUsed.last_used_at).not.toBeNull();

      // The writes refused during the fault were never made later behind the client's back.
      const labels = await app.services.db.selectFrom('api_keys').select('label').execute();
      expect(labels.map((k) => k.label)).not.toContain('made while read-only');
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    });
  },
);
