import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import { basicAuth, eventually, postForm } from '../helpers/http.ts';
import { type Seed, seed } from '../helpers/seed.ts';
import { dropTestSchema, POSTGRES_URL, testConfig, testSchemaName } from '../helpers/test-app.ts';
import { TcpProxy } from './outage-tools.ts';

/** The bound for an answer while the database is away (measured here on a reset connection). */
const UNAVAILABLE_WITHIN_MS = 2000;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL ?? '' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const timed = async <T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> => {
  const started = Date.now();
  const result = await work();
  return { result, ms: Date.now() - started };
};

describe.skipIf(!POSTGRES_URL)('PostgreSQL outage (a TCP proxy between the app and PostgreSQL, cut)', () => {
  const schema = testSchemaName();
  let proxy: TcpProxy;
  let storage: Storage;
  let app: FastifyInstance;
  let s: Seed;
  /** A bearer token of A's key, verified once before the outage. */
  let token: string;

  const usageOf = (keyId: number) =>
    admin(async (client) => {
      const { rows } = await client.query(
        `SELECT coalesce(sum(count), 0)::int AS n FROM ${schema}.key_usage WHERE api_key_id = $1`,
        [keyId],
      );
      return Number(rows[0].n);
    });
  const lastUsedOf = (keyId: number) =>
    admin(async (client) => {
      const { rows } = await client.query(`SELECT last_used_at FROM ${schema}.api_keys WHERE id = $1`, [
        keyId,
      ]);
      return rows[0].last_used_at === null ? null : Number(rows[0].last_used_at);
    });

  beforeAll(async () => {
    const server = new URL(POSTGRES_URL ?? '');
    proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
    await admin((client) => client.query(`CREATE SCHEMA ${schema}`));
    const through = new URL(server.href);
    through.hostname = '127.0.0.1';
    through.port = String(proxy.port);
    storage = openStorage(through.href, { schema, poolSize: 4 });
    // The batched writes are flushed by the test only, so that it sees what waited through the outage.
    app = await buildApp(testConfig(), {
      storage,
      keyCache: { pollMs: 50, flushMs: 3_600_000 },
      usageFlushMs: 3_600_000,
    });
    s = await seed(app.services.db);
    const issued = await postForm(
      app,
      '/connect/token',
      { grant_type: 'client_credentials', scope: 'api1' },
      { authorization: basicAuth(s.orgKeyA.key.publicKey, s.orgKeyA.privateKey) },
    );
    expect(issued.statusCode, issued.body).toBe(200);
    token = issued.json().access_token;
  });
  afterAll(async () => {
    await proxy?.restore().catch(() => {});
    await app?.close();
    await storage?.close();
    await dropTestSchema(schema);
    await proxy?.cut();
  });

  const me = (headers: Record<string, string>) => app.inject({ url: '/me', headers });

  it('serves from warm caches, answers 503 where the database is needed, and catches up once it is back', async () => {
    // Warm: A's keys and its token are verified once; the counts so far are written.
    expect((await me({ 'x-api-key': s.orgKeyA.privateKey })).statusCode).toBe(200);
    expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(200);
    expect((await me({ 'x-api-key': s.adminKeyA.privateKey })).statusCode).toBe(200);
    await app.services.usage.flush();
    await app.services.keys.flush();
    const usageBefore = await usageOf(s.orgKeyA.key.id);
    const adminUsageBefore = await usageOf(s.adminKeyA.key.id);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);

    await proxy.cut();
    const cutAt = Date.now();

    // A REST request that needs the database: a 503 problem, with Retry-After, within 2 s.
    const list = await timed(() =>
      app.inject({ url: '/v1/workspaces', headers: { 'x-api-key': s.orgKeyA.privateKey } }),
    );
    expect(list.ms).toBeLessThan(UNAVAILABLE_WITHIN_MS);
    expect(list.result.statusCode, list.result.body).toBe(503);
    expect(list.result.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(list.result.headers['retry-after']).toBe('5');
    expect(list.result.json()).toMatchObject({
      type: 'urn:gatehouse:problem:service_unavailable',
      status: 503,
      code: 'service_unavailable',
      detail: 'the database is unavailable; retry shortly',
    });

    // A write through the admin API: the same, and nothing of the driver's error leaks.
    const create = await timed(() =>
      app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: { 'x-api-key': s.adminKeyA.privateKey },
        payload: { label: 'made during the outage' },
      }),
    );
    expect(create.ms).toBeLessThan(UNAVAILABLE_WITHIN_MS);
    expect(create.result.statusCode, create.result.body).toBe(503);
    expect(create.result.body).not.toMatch(/ECONN|terminated|timeout exceeded|stack/i);

    // An API key never seen by this instance must be looked up: 503, not 401 (the key may be fine).
    const unknown = await timed(() => me({ 'x-api-key': s.orgKeyB.privateKey }));
    expect(unknown.ms).toBeLessThan(UNAVAILABLE_WITHIN_MS);
    expect(unknown.result.statusCode, unknown.result.body).toBe(503);

    // The OAuth endpoints answer RFC 6749 JSON: temporarily_unavailable.
    const tokenRequest = await timed(() =>
      postForm(
        app,
        '/connect/token',
        { grant_type: 'client_credentials', scope: 'api1' },
        { authorization: basicAuth(s.orgKeyB.key.publicKey, s.orgKeyB.privateKey) },
      ),
    );
    expect(tokenRequest.ms).toBeLessThan(UNAVAILABLE_WITHIN_MS);
    expect(tokenRequest.result.statusCode, tokenRequest.result.body).toBe(503);
    expect(tokenRequest.result.headers['content-type']).toMatch(/^application\/json/);
    expect(tokenRequest.result.headers['retry-after']).toBe('5');
    expect(tokenRequest.result.json()).toMatchObject({ error: 'temporarily_unavailable' });

    // A page answers an HTML page: the authorization endpoint, for a client not in memory.
    const page = await timed(() =>
      app.inject({
        url: `/connect/authorize?response_type=code&client_id=${s.orgKeyB.key.publicKey}&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&scope=api1&state=x`,
      }),
    );
    expect(page.ms).toBeLessThan(UNAVAILABLE_WITHIN_MS);
    expect(page.result.statusCode, page.result.body).toBe(503);
    expect(page.result.headers['content-type']).toMatch(/^text\/html/);

    // Readiness names the database; liveness does not care.
    const ready = await timed(() => app.inject({ url: '/readyz' }));
    expect(ready.ms).toBeLessThan(1500);
    expect(ready.result.statusCode).toBe(503);
    expect(ready.result.json()).toMatchObject({
      code: 'service_unavailable',
      detail: 'database is unreachable',
      checks: { database: 'down' },
    });
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);

    // Warm caches keep working: the cached API key and the cached bearer token, without the database.
    const cachedKey = await me({ 'x-api-key': s.orgKeyA.privateKey });
    expect(cachedKey.statusCode, cachedKey.body).toBe(200);
    expect(cachedKey.json()).toMatchObject({ authMethod: 'apiKey', tenantId: s.a.tenantId });
    const cachedToken = await me({ authorization: `Bearer ${token}` });
    expect(cachedToken.statusCode, cachedToken.body).toBe(200);
    expect(cachedToken.json()).toMatchObject({ authMethod: 'bearer', tenantId: s.a.tenantId });

    // The batched writes fail while it is away, and are kept.
    await expect(app.services.usage.flush()).rejects.toThrow();
    await expect(app.services.keys.flush()).rejects.toThrow();
    expect(app.services.usage.pendingCount).toBeGreaterThan(0);
    expect(app.services.keys.pendingLastUsed).toBeGreaterThan(0);
    expect(app.services.usage.dropped).toBe(0);

    await proxy.restore();

    // Back by itself: no restart.
    expect(
      await eventually(async () => (await app.inject({ url: '/readyz' })).statusCode === 200, 10_000),
    ).toBe(true);
    const again = await app.inject({ url: '/v1/workspaces', headers: { 'x-api-key': s.orgKeyA.privateKey } });
    expect(again.statusCode, again.body).toBe(200);
    const created = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { 'x-api-key': s.adminKeyA.privateKey },
      payload: { label: 'made after the outage' },
    });
    expect(created.statusCode, created.body).toBe(201);

    // Nothing lost: what was counted during the outage is written by the next flush.
    await app.services.usage.flush();
    await app.services.keys.flush();
    // A's key: /v1/workspaces (503), /me twice with the key or its token during the outage, then /v1/workspaces.
    expect(await usageOf(s.orgKeyA.key.id)).toBe(usageBefore + 4);
    // The admin key: the refused creation during the outage, the creation after it.
    expect(await usageOf(s.adminKeyA.key.id)).toBe(adminUsageBefore + 2);
    expect(await lastUsedOf(s.orgKeyA.key.id)).toBeGreaterThanOrEqual(cutAt);
    expect(app.services.usage.pendingCount).toBe(0);
    expect(app.services.keys.pendingLastUsed).toBe(0);
  });
});
