import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { ChangeTable } from '../../src/auth/change-listener.ts';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { rotateSigningKey } from '../../src/domain/signing-keys.ts';
import { issueAccessToken } from '../../src/oauth/access-token.ts';
import { createServices } from '../../src/services.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import { markRevoked } from '../../src/storage/repositories/api-keys.ts';
import { insertInvalidation } from '../../src/storage/repositories/invalidations.ts';
import { eventually, postForm, wait } from '../helpers/http.ts';
import { type Seed, seed } from '../helpers/seed.ts';
import { openTestStorage, POSTGRES_URL, testConfig } from '../helpers/test-app.ts';
import { basicOf, OAUTH_ENV, tokenFor } from '../oauth/oauth-helpers.ts';
import { TcpProxy } from '../ops/outage-tools.ts';

/** Limits no trial reaches: every trial ends on a 401 at B, and 50 of them come from one address. */
const ENV = { ...OAUTH_ENV, GATEHOUSE_AUTH_FAILURE_LIMIT: '1000000' };
/**
 * Polls that never fire during a test (the key feed, its resync and the denylist): what reaches B
 * within milliseconds can only have been pushed. The key ring still reloads every 5 s, the membership
 * cache every 10 s: far slower than the bound measured.
 */
const PUSH_ONLY = { keyCache: { pollMs: 60_000, resyncMs: 3_600_000 } };
const TRIALS = 50;
/**
 * What only the push explains here: B polls every 60 s and reloads signing keys every 5 s, so every
 * change arriving within a second came by NOTIFY. The issue's own target (p99 at most 100 ms between
 * two processes) is asserted by two-instances.test.ts; these in-process figures are printed beside it.
 */
const P99_BOUND_MS = 1000;
/** A trial that has not converged by then has failed (push and resync alike are far quicker). */
const GIVE_UP_MS = 10_000;
const LOST = 'the listening connection was lost';

const describePostgres = POSTGRES_URL ? describe : describe.skip;

/** Nearest-rank percentile of `values` (q in 0..1). */
function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

function summary(values: readonly number[]): { p50: number; p99: number } {
  return { p50: percentile(values, 0.5), p99: percentile(values, 0.99) };
}

/**
 * Asks `refused` again on every turn of the event loop (or every `pauseMs`) until it holds; resolves
 * with the time it took (ms).
 */
async function timeUntil(refused: () => Promise<boolean>, pauseMs = 0): Promise<number> {
  const start = performance.now();
  while (!(await refused())) {
    if (performance.now() - start > GIVE_UP_MS) throw new Error(`not refused after ${GIVE_UP_MS} ms`);
    // At least one turn, so that the listening socket is read between two requests.
    await (pauseMs ? wait(pauseMs) : nextTurn());
  }
  return performance.now() - start;
}

/** One trial: the change is committed through A; `refused` tells whether B reflects it; `after` tidies up. */
interface Trial {
  refused: () => Promise<boolean>;
  after?: () => Promise<void>;
}

/**
 * Runs `TRIALS` trials (prepare on A and B, change through A, time until B reflects it), prints
 * p50/p99 of that time and of B's own notify-to-applied lag for `table`, and returns the former.
 */
async function measure(
  name: string,
  b: FastifyInstance,
  table: ChangeTable,
  trial: () => Promise<Trial>,
): Promise<{ p50: number; p99: number }> {
  const lags: number[] = [];
  b.services.changes.onApplied((applied, lagMs) => {
    if (applied === table) lags.push(lagMs);
  });
  const times: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const { refused, after } = await trial();
    times.push(await timeUntil(refused));
    await after?.();
  }
  const seen = summary(times);
  const lag = summary(lags);
  console.log(
    `push invalidation, ${name}: refused by B after p50 ${seen.p50.toFixed(1)} ms, p99 ${seen.p99.toFixed(1)} ms ` +
      `over ${TRIALS} trials (B's notify -> applied lag: p50 ${lag.p50} ms, p99 ${lag.p99} ms)`,
  );
  return seen;
}

const me = (app: FastifyInstance, headers: Record<string, string>) =>
  app.inject({ method: 'GET', url: '/me', headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function expectStatus(res: LightMyRequestResponse, status: number): void {
  expect(res.statusCode, res.body).toBe(status);
}

/** An error's message and those of its causes, as a log line would show them. */
function causes(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e instanceof Error && parts.length < 5; e = e.cause) parts.push(e.message);
  return parts.join(' <- ');
}

/** A log sink for an app: its JSON lines, kept. */
function logLines(): { stream: { write(line: string): void }; lines: string[] } {
  const lines: string[] = [];
  return { stream: { write: (line) => void lines.push(line) }, lines };
}

describePostgres('push invalidation on PostgreSQL: two instances on one schema', () => {
  let storageA: Storage;
  let storageB: Storage;
  let drop: () => Promise<void>;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let s: Seed;
  const logB = logLines();

  beforeAll(async () => {
    const opened = await openTestStorage('postgres');
    ({ storage: storageA, drop } = opened);
    a = await buildApp(testConfig(ENV), { storage: storageA, ...PUSH_ONLY });
    s = await seed(storageA.db);
    // B: its own pool on the same schema, as another process would have.
    storageB = openStorage(opened.url, { schema: storageA.schema ?? 'public', poolSize: 4 });
    b = await buildApp(testConfig({ ...ENV, GATEHOUSE_LOG_LEVEL: 'error' }), {
      storage: storageB,
      ...PUSH_ONLY,
      logStream: logB.stream,
    });
    expect(b.services.changes.listening).toBe(true);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await storageB?.close();
    await storageA?.close();
    await drop?.();
  });

  const adminA = () => ({ 'x-api-key': s.adminKeyA.privateKey });

  it(`a key revoked through A is refused by B in p99 < ${P99_BOUND_MS} ms, pushed (${TRIALS} trials, B polling every 60 s)`, async () => {
    const { p99 } = await measure('API key revoked', b, 'invalidations', async () => {
      const created = await a.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: adminA(),
        payload: { label: 'revoked in a trial' },
      });
      expectStatus(created, 201);
      const { publicKey, privateKey } = created.json();
      // B caches it: from here on only an invalidation makes B read it again.
      expectStatus(await me(b, { 'x-api-key': privateKey }), 200);
      const revoked = await a.inject({
        method: 'DELETE',
        url: `/v1/api-keys/${publicKey}`,
        headers: adminA(),
      });
      expectStatus(revoked, 204);
      return { refused: async () => (await me(b, { 'x-api-key': privateKey })).statusCode === 401 };
    });
    expect(p99).toBeLessThan(P99_BOUND_MS);
  });

  it(`an access token revoked through A is refused by B in p99 < ${P99_BOUND_MS} ms (the denylist, pushed)`, async () => {
    const { p99 } = await measure('access token revoked', b, 'revoked_tokens', async () => {
      const token = await tokenFor(a, s.orgKeyA);
      expectStatus(await me(b, bearer(token)), 200);
      const revoked = await postForm(
        a,
        '/connect/revocation',
        { token },
        { authorization: basicOf(s.orgKeyA) },
      );
      expectStatus(revoked, 200);
      return { refused: async () => (await me(b, bearer(token))).statusCode === 401 };
    });
    expect(p99).toBeLessThan(P99_BOUND_MS);
  });

  it(`a signing key rotated on A is published by B in p99 < ${P99_BOUND_MS} ms, pushed (B reloads by itself every 5 s)`, async () => {
    const jwksOf = async (app: FastifyInstance): Promise<string[]> => {
      const res = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration/jwks' });
      return res.json().keys.map((key: { kid: string }) => key.kid);
    };
    const { p99 } = await measure('signing key rotated', b, 'signing_keys', async () => {
      // As `gatehouse signing-keys rotate` does it: straight to the database.
      const [rotated] = await rotateSigningKey(a.services.db, a.services.config.secret, CLI_ACTOR, ['ES256']);
      const kid = rotated?.kid ?? '';
      return { refused: async () => (await jwksOf(b)).includes(kid) };
    });
    expect(p99).toBeLessThan(P99_BOUND_MS);
  });

  it(`a member removed through A can no longer act on B in p99 < ${P99_BOUND_MS} ms, pushed (B trusts a membership 10 s)`, async () => {
    const email = 'pushed-member@a.test';
    const added = await a.inject({
      method: 'POST',
      url: '/v1/members',
      headers: adminA(),
      payload: { email, role: 'member', password: 'a long enough password for this member' },
    });
    expectStatus(added, 201);
    const userId: number = added.json().id;
    const { p99 } = await measure('member removed', b, 'memberships', async () => {
      // Issued directly, from no grant: removing the member revokes no token of it, so only the
      // membership change can refuse it.
      const { token } = await issueAccessToken(a.services, {
        client: s.orgKeyA.key,
        userId,
        scope: 'api1',
        workspaceId: null,
      });
      const seen = await me(b, bearer(token));
      expectStatus(seen, 200);
      expect(seen.json().user.id).toBe(userId);
      expectStatus(
        await a.inject({ method: 'DELETE', url: `/v1/members/${userId}`, headers: adminA() }),
        204,
      );
      return {
        refused: async () => (await me(b, bearer(token))).statusCode === 401,
        // The account exists still: adding it back hashes no password, and the next trial starts anew.
        after: async () => {
          const payload = { email, role: 'member' };
          expectStatus(
            await a.inject({ method: 'POST', url: '/v1/members', headers: adminA(), payload }),
            201,
          );
        },
      };
    });
    expect(p99).toBeLessThan(P99_BOUND_MS);
  });

  it('a rolled-back change notifies nobody; the same change committed does', async () => {
    const issued = await createApiKey(
      storageA.db,
      { tenantId: s.a.tenantId, label: 'rolled back' },
      CLI_ACTOR,
    );
    const { privateKey } = issued;
    const { id, publicKey } = issued.key;
    expectStatus(await me(b, { 'x-api-key': privateKey }), 200);
    const before = b.services.changes.stats.received;
    const rollback = storageA.db.transaction().execute(async (trx) => {
      await markRevoked(trx, id, Date.now());
      await insertInvalidation(trx, id, Date.now());
      await sql`insert into revoked_tokens (jti, client_id, expires_at, created_at) values ('rolled-back', ${publicKey}, ${Date.now() + 60_000}, ${Date.now()})`.execute(
        trx,
      );
      await sql`delete from memberships where user_id = ${s.a.userId}`.execute(trx);
      throw new Error('rolled back on purpose');
    });
    await expect(rollback).rejects.toThrow('rolled back on purpose');
    await wait(300);
    expect(b.services.changes.stats.received).toBe(before);
    expectStatus(await me(b, { 'x-api-key': privateKey }), 200);

    // The listener was there all along: the same revocation, committed, arrives.
    await a.inject({ method: 'DELETE', url: `/v1/api-keys/${publicKey}`, headers: adminA() });
    expect(await eventually(async () => (await me(b, { 'x-api-key': privateKey })).statusCode === 401)).toBe(
      true,
    );
    expect(b.services.changes.stats.received).toBeGreaterThan(before);
  });

  it('a hand-made NOTIFY on the channel that is not ours is ignored, and the listener goes on', async () => {
    const { changes } = b.services;
    const before = { ...changes.stats };
    const admin = new pg.Client({
      connectionString: POSTGRES_URL ?? '',
      options: `-c search_path=${storageA.schema}`,
    });
    await admin.connect();
    try {
      const payloads = [
        'not json',
        '[]',
        '{"table":"api_keys","at":1}',
        '{"table":"memberships","at":1}',
        'null',
      ];
      for (const payload of payloads)
        await admin.query('select pg_notify(gatehouse_change_channel($1), $2)', [storageA.schema, payload]);
      expect(await eventually(async () => changes.stats.ignored === before.ignored + payloads.length)).toBe(
        true,
      );
      expect(changes.stats.received).toBe(before.received);
      expect(changes.listening).toBe(true);
    } finally {
      await admin.end();
    }
  });

  it("after pg_terminate_backend of B's listening connection, B reconnects and applies what was committed meanwhile (resync)", async () => {
    const label = 'revoked while B was away';
    const { privateKey, key } = await createApiKey(storageA.db, { tenantId: s.a.tenantId, label }, CLI_ACTOR);
    const { id } = key;
    expectStatus(await me(b, { 'x-api-key': privateKey }), 200);
    const { changes } = b.services;
    const before = { ...changes.stats };
    const name = changes.connectionName;
    expect(name).toMatch(/^gatehouse-changes /);
    const admin = new pg.Client({ connectionString: POSTGRES_URL ?? '' });
    await admin.connect();
    try {
      const found = await admin.query<{ pid: number }>(
        'select pid from pg_stat_activity where application_name = $1',
        [name],
      );
      expect(found.rows).toHaveLength(1);
      const pid = found.rows[0]?.pid;
      // The revocation and the end of B's connection in one transaction, with triggers off for it
      // (`session_replication_role`: the tests connect as a superuser), so that nothing announces it:
      // a notification lost while B was away. PostgreSQL may otherwise hand a reconnecting listener
      // a notification committed just before its LISTEN, and this test must see the resync alone.
      await storageA.db.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await markRevoked(trx, id, Date.now());
        await insertInvalidation(trx, id, Date.now());
        await sql`select pg_terminate_backend(${pid}::int, 5000)`.execute(trx);
      });
      const refused = async () => (await me(b, { 'x-api-key': privateKey })).statusCode === 401;
      expect(await eventually(refused)).toBe(true);
      expect(changes.listening).toBe(true);
      expect(changes.stats.reconnects).toBe(before.reconnects + 1);
      // Applied by the resync after reconnecting: there was no notification, and the poll is 60 s away.
      expect(changes.stats.received).toBe(before.received);
      const again = await admin.query('select pid from pg_stat_activity where application_name = $1', [name]);
      expect(again.rows).toHaveLength(1);
      expect(again.rows[0]?.pid).not.toBe(pid);
    } finally {
      await admin.end();
    }
    // However the app logs the outage, no line names the connection string (it may hold a password).
    expect(logB.lines.join('')).not.toContain('postgres://');
  });

  it('through a database outage (every connection cut, reconnections refused), the instance reports once, reconnects and resyncs', async () => {
    const server = new URL(POSTGRES_URL ?? '');
    const proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
    const through = new URL(server.href);
    through.host = `127.0.0.1:${proxy.port}`;
    const storageC = openStorage(through.href, { schema: storageA.schema ?? 'public', poolSize: 2 });
    // The services alone: what they tell `onBackgroundError` is the contract (the app decides how to log it).
    const reported: Error[] = [];
    const c = await createServices(testConfig(ENV), {
      storage: storageC,
      ...PUSH_ONLY,
      onBackgroundError: (error) => {
        if (error instanceof Error && error.message.includes(LOST)) reported.push(error);
      },
    });
    try {
      const label = 'revoked during the outage';
      const issued = await createApiKey(storageA.db, { tenantId: s.a.tenantId, label }, CLI_ACTOR);
      expect((await c.keys.verifySecret(issued.privateKey)).valid).toBe(true);
      expect(c.changes.listening).toBe(true);

      await proxy.cut();
      expect(await eventually(async () => !c.changes.listening)).toBe(true);
      await revokeApiKey(storageA.db, issued.key.publicKey, CLI_ACTOR);
      // Attempts at 100, 200 and 400 ms are refused: one outage, however many attempts.
      await wait(800);
      // Still answered from C's warm cache: C has not heard of the revocation.
      expect((await c.keys.verifySecret(issued.privateKey)).valid).toBe(true);
      await proxy.restore();

      const refused = async () => (await c.keys.verifySecret(issued.privateKey)).valid === false;
      expect(await eventually(refused, 8000)).toBe(true);
      expect(c.changes.listening).toBe(true);
      expect(c.changes.stats.reconnects).toBe(1);
      expect(reported).toHaveLength(1);
      // What is reported names no connection string (it may hold a password).
      expect(causes(reported[0])).not.toContain('postgres://');
    } finally {
      await c.close();
      await storageC.close();
      await proxy.cut();
    }
  });

  it('closing an instance UNLISTENs and ends its connection before the pool closes', async () => {
    const storageD = openStorage(POSTGRES_URL ?? '', { schema: storageA.schema ?? 'public', poolSize: 2 });
    const d = await buildApp(testConfig(ENV), { storage: storageD, ...PUSH_ONLY });
    const name = d.services.changes.connectionName;
    const admin = new pg.Client({ connectionString: POSTGRES_URL ?? '' });
    await admin.connect();
    try {
      const count = async () =>
        (await admin.query('select 1 from pg_stat_activity where application_name = $1', [name])).rowCount;
      expect(await count()).toBe(1);
      await d.close();
      expect(d.services.changes.listening).toBe(false);
      expect(await eventually(async () => (await count()) === 0)).toBe(true);
    } finally {
      await admin.end();
      await storageD.close();
    }
  });
});

describe('on SQLite nothing listens: polling applies changes within the poll interval', () => {
  let storageA: Storage;
  let storageB: Storage;
  let drop: () => Promise<void>;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let s: Seed;

  beforeAll(async () => {
    const opened = await openTestStorage('sqlite');
    ({ storage: storageA, drop } = opened);
    a = await buildApp(testConfig(ENV), { storage: storageA });
    s = await seed(storageA.db);
    // Two instances on one file (a server and the CLI, or two processes on one host): the default 1 s poll.
    storageB = openStorage(opened.url);
    b = await buildApp(testConfig(ENV), { storage: storageB });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await storageB?.close();
    await storageA?.close();
    await drop?.();
  });

  it('a key revoked through A is refused by B at its next poll (1 s), with no listener', async () => {
    expect(b.services.changes.listening).toBe(false);
    expect(b.services.changes.connectionName).toBeNull();
    const headers = { 'x-api-key': s.adminKeyA.privateKey };
    const created = await a.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers,
      payload: { label: 'polled' },
    });
    const { publicKey, privateKey } = created.json();
    expectStatus(await me(b, { 'x-api-key': privateKey }), 200);
    expectStatus(await a.inject({ method: 'DELETE', url: `/v1/api-keys/${publicKey}`, headers }), 204);
    const took = await timeUntil(
      async () => (await me(b, { 'x-api-key': privateKey })).statusCode === 401,
      10,
    );
    console.log(`polling on SQLite: a revoked key refused by the other instance after ${took.toFixed(0)} ms`);
    // The poll interval, plus a generous margin for a loaded machine.
    expect(took).toBeLessThan(3000);
    expect(b.services.changes.stats.received).toBe(0);
  });
});
