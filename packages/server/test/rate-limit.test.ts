import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { ConfigError } from '../src/config/config.ts';
import { createApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import type { ApiKey } from '../src/model/types.ts';
import { basicAuth, postForm } from './helpers/http.ts';
import { type Seed, seed } from './helpers/seed.ts';
import { useSeededApp } from './helpers/seeded-app.ts';
import { createTestApp, describeEachDialect, type TestApp, testConfig } from './helpers/test-app.ts';

const LIMITS = { GATEHOUSE_RATE_LIMIT: '3', GATEHOUSE_TOKEN_RATE_LIMIT: '3' };
const REDIS_URL = 'redis://127.0.0.1:6379';

function expectBudgetHeaders(res: LightMyRequestResponse, remaining: number) {
  expect(res.headers['ratelimit-limit']).toBe('3');
  expect(res.headers['ratelimit-remaining']).toBe(String(remaining));
  const reset = Number(res.headers['ratelimit-reset']);
  expect(reset).toBeGreaterThan(0);
  expect(reset).toBeLessThanOrEqual(60);
}

function expectTooMany(res: LightMyRequestResponse) {
  expect(res.statusCode).toBe(429);
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expectBudgetHeaders(res, 0);
}

/** DESIGN.md 3 rule 9: per credential on the API, per address on /connect/*, per client on the token endpoint. */
describeEachDialect('rate limits', (dialect) => {
  const ctx = useSeededApp(dialect, LIMITS);

  const freshKey = async () =>
    (await createApiKey(ctx.app.services.db, { tenantId: ctx.seed.a.tenantId }, CLI_ACTOR)).privateKey;
  const get = (url: string, key: string, remoteAddress = '127.0.0.1') =>
    ctx.app.inject({ method: 'GET', url, headers: { 'x-api-key': key }, remoteAddress });

  it('spends a per-credential budget and then answers 429 with Retry-After and RateLimit-* headers', async () => {
    const key = await freshKey();
    for (const remaining of [2, 1, 0]) {
      const res = await get('/me', key);
      expect(res.statusCode).toBe(200);
      expectBudgetHeaders(res, remaining);
    }
    const refused = await get('/me', key);
    expectTooMany(refused);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      type: 'urn:gatehouse:problem:rate_limited',
      status: 429,
      code: 'rate_limited',
      requestId: expect.any(String),
    });
    expect(refused.json().detail).toMatch(/retry in/);
  });

  it('counts per credential, not per address', async () => {
    const key = await freshKey();
    for (const address of ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
      expect((await get('/me', key, address)).statusCode).toBe(200);
    expectTooMany(await get('/me', key, '198.51.100.4'));
    // Another credential from the same addresses still has its whole budget.
    const other = await get('/me', await freshKey(), '198.51.100.1');
    expect(other.statusCode).toBe(200);
    expectBudgetHeaders(other, 2);
  });

  it('spends one budget across every API route', async () => {
    const key = await freshKey();
    await get('/me', key);
    await get('/v1/workspaces', key);
    await get(`/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`, key);
    expectTooMany(await get(`/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/entities`, key));
  });

  it('GET /rate-limiting-state shows the caller its budget, this request included', async () => {
    const key = await freshKey();
    const before = Date.now();
    const res = await get('/rate-limiting-state', key);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['limit', 'remaining', 'resetAt']);
    expect(body).toMatchObject({ limit: 3, remaining: 2 });
    expect(String(body.remaining)).toBe(res.headers['ratelimit-remaining']);
    const resetAt = Date.parse(body.resetAt);
    expect(resetAt).toBeGreaterThan(before);
    expect(resetAt).toBeLessThanOrEqual(Date.now() + 60_000);
    await get('/me', key);
    expect((await get('/rate-limiting-state', key)).json().remaining).toBe(0);
  });

  it('GET /rate-limiting-state needs a credential', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/rate-limiting-state' });
    expect(res.statusCode).toBe(401);
  });

  it('falls back to the client address for requests without a credential', async () => {
    const url = '/.well-known/openid-configuration';
    for (let i = 0; i < 3; i++)
      expect((await ctx.app.inject({ url, remoteAddress: '203.0.113.50' })).statusCode).toBe(200);
    expectTooMany(await ctx.app.inject({ url, remoteAddress: '203.0.113.50' }));
    expect((await ctx.app.inject({ url, remoteAddress: '203.0.113.51' })).statusCode).toBe(200);
  });

  it('never limits the status, health and metrics probes', async () => {
    for (let i = 0; i < 10; i++) {
      for (const url of ['/status', '/healthz', '/metrics']) {
        const res = await ctx.app.inject({ url, remoteAddress: '203.0.113.60' });
        expect(res.statusCode, url).toBe(200);
        expect(res.headers['ratelimit-limit']).toBeUndefined();
      }
    }
  });

  it('limits /connect/* per address with its own budget, answering in the OAuth error format', async () => {
    const address = '192.0.2.10';
    const connect = (url: string, remoteAddress = address) =>
      postForm(ctx.app, url, 'token=x', {}, { remoteAddress });
    // The budget is spent before the request is even parsed, whatever the endpoint answers.
    for (const url of ['/connect/token', '/connect/revocation', '/connect/introspect'])
      expect((await connect(url)).statusCode).not.toBe(429);
    const refused = await connect('/connect/token');
    expectTooMany(refused);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(refused.json()).toEqual({
      error: 'rate_limited',
      error_description: expect.stringMatching(/retry/),
    });
    expect((await connect('/connect/token', '192.0.2.11')).statusCode).not.toBe(429);
    // The REST budget of a key used from that address is untouched.
    expect((await get('/me', await freshKey(), address)).statusCode).toBe(200);
  });

  it('limits the token endpoint per client too, from whatever address', async () => {
    const issued = await createApiKey(ctx.app.services.db, { tenantId: ctx.seed.b.tenantId }, CLI_ACTOR);
    const token = (i: number) =>
      postForm(
        ctx.app,
        '/connect/token',
        'grant_type=client_credentials&scope=api1',
        { authorization: basicAuth(issued.key.publicKey, issued.privateKey) },
        { remoteAddress: `192.0.2.${100 + i}` },
      );
    for (const i of [0, 1, 2]) {
      const res = await token(i);
      expect(res.statusCode, res.body).toBe(200);
      expectBudgetHeaders(res, 2 - i);
    }
    const refused = await token(3);
    expectTooMany(refused);
    expect(refused.json().error).toBe('rate_limited');
  });
});

describe('per-client budgets with many active clients', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite', LIMITS);
  });
  afterAll(() => t.close());

  // Regression: the per-client limiter's counters lived in a 5,000-entry LRU (the plugin's default for
  // child limiters), so 5,001 active clients evicted each other's counters and reset their budgets.
  it('keeps counting a client while more than 5,000 other clients spend theirs', async () => {
    // Sound for this test: the limiter reads only the route's config and the client's id of a request.
    const request = (id: number) =>
      ({ routeOptions: { config: {} }, client: { id } as ApiKey }) as unknown as FastifyRequest;
    const first = await t.app.budgets.spendClient(request(1));
    for (let id = 2; id <= 6000; id++) await t.app.budgets.spendClient(request(id));
    const again = await t.app.budgets.spendClient(request(1));
    expect(again.remaining).toBe(first.remaining - 1);
  });
});

describeEachDialect('rate limits shared through Redis', (dialect) => {
  const prefix = `gatehouse-test-${randomBytes(6).toString('hex')}:`;
  const env = { ...LIMITS, GATEHOUSE_REDIS_URL: REDIS_URL, GATEHOUSE_REDIS_PREFIX: prefix };
  let t: TestApp;
  let second: FastifyInstance;
  let s: Seed;
  beforeAll(async () => {
    t = await createTestApp(dialect, env);
    // A second instance on the same database and Redis, as behind a load balancer.
    second = await buildApp(testConfig(env), { storage: t.storage, keyCache: { pollMs: 50 } });
    s = await seed(t.app.services.db);
  });
  afterAll(async () => {
    await second.close();
    await t.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('shares one budget between instances', async () => {
    const key = s.orgKeyA.privateKey;
    const me = (app: FastifyInstance) => app.inject({ url: '/me', headers: { 'x-api-key': key } });
    expectBudgetHeaders(await me(t.app), 2);
    expectBudgetHeaders(await me(second), 1);
    expectBudgetHeaders(await me(t.app), 0);
    expectTooMany(await me(second));
  });

  it('shows the shared budget at /rate-limiting-state on any instance', async () => {
    const key = s.orgKeyB.privateKey;
    await t.app.inject({ url: '/me', headers: { 'x-api-key': key } });
    const res = await second.inject({ url: '/rate-limiting-state', headers: { 'x-api-key': key } });
    expect(res.json()).toMatchObject({ limit: 3, remaining: 1 });
  });

  it('keeps its counters under the configured prefix', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      expect((await redis.keys(`${prefix}rl:*`)).length).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
  });

  it('refuses to start when Redis is unreachable, naming GATEHOUSE_REDIS_URL', async () => {
    const config = testConfig({ GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:1' });
    const started = buildApp(config, { storage: t.storage });
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toMatchObject({ variable: 'GATEHOUSE_REDIS_URL' });
  });
});
