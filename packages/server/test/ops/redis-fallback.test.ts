import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePrivateKey } from '../../src/domain/key-format.ts';
import { eventually, wait } from '../helpers/http.ts';
import { type Seed, seed } from '../helpers/seed.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { PrivateRedis } from './outage-tools.ts';

const BUDGET = 3;
const FAILURE_BUDGET = 2;

describe('rate limits while Redis is away (a private redis-server the test stops and starts)', () => {
  const prefix = 'gatehouse-ops:';
  const logs: string[] = [];
  let redis: PrivateRedis;
  let t: TestApp;
  let s: Seed;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    t = await createTestApp(
      'sqlite',
      {
        GATEHOUSE_REDIS_URL: redis.url,
        GATEHOUSE_REDIS_PREFIX: prefix,
        GATEHOUSE_RATE_LIMIT: String(BUDGET),
        GATEHOUSE_AUTH_FAILURE_LIMIT: String(FAILURE_BUDGET),
        GATEHOUSE_LOG_LEVEL: 'info',
      },
      { logStream: { write: (line: string) => void logs.push(line) } },
    );
    s = await seed(t.app.services.db);
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const me = (key: string) => t.app.inject({ url: '/me', headers: { 'x-api-key': key } });
  const messages = (pattern: RegExp) =>
    logs.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((l) => pattern.test(l.msg));
  /** The rate-limit keys in the private Redis naming `keyId`'s budget. */
  const budgetKeysOf = async (keyId: number) => {
    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      await client.connect();
      return await client.keys(`${prefix}rl:*key:${keyId}`);
    } finally {
      client.disconnect();
    }
  };

  it('counts in Redis while it is up', async () => {
    expect((await me(s.orgKeyA.privateKey)).statusCode).toBe(200);
    expect(await budgetKeysOf(s.orgKeyA.key.id)).toHaveLength(1);
    expect(t.app.services.redisState).toMatchObject({ up: true, outages: 0, fallbacks: 0 });
  });

  it('still enforces every budget, per instance in memory, while Redis is stopped; warns once per outage', async () => {
    await redis.stop();
    expect(await eventually(async () => t.app.services.redisState?.up === false)).toBe(true);

    // A key's budget: BUDGET requests, then 429 (the limit is not skipped).
    const key = s.orgKeyB.privateKey;
    for (let i = 0; i < BUDGET; i++) {
      const res = await me(key);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['ratelimit-remaining']).toBe(String(BUDGET - 1 - i));
    }
    const refused = await me(key);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.json()).toMatchObject({ code: 'rate_limited' });

    // The failed-authentication budget (the attempt counters): made-up keys are refused past it.
    const statuses: number[] = [];
    for (let i = 0; i <= FAILURE_BUDGET; i++) statuses.push((await me(generatePrivateKey())).statusCode);
    expect(statuses).toEqual([...Array(FAILURE_BUDGET).fill(401), 429]);

    // ioredis keeps retrying (an error each time): still one warning for the whole outage.
    await wait(2500);
    // (A's key is known to this instance: its lookup does not spend the address's failure budget.)
    expect((await me(s.orgKeyA.privateKey)).statusCode).toBe(200);
    const warnings = messages(/Redis is unreachable/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.level).toBe(40);
    expect(t.app.services.redisState?.outages).toBe(1);
    expect(t.app.services.redisState?.fallbacks).toBeGreaterThanOrEqual(BUDGET + 1 + FAILURE_BUDGET + 1);
    // The operator sees it too.
    const scraped = (await t.app.inject({ url: '/metrics' })).body;
    expect(scraped).toMatch(/^gatehouse_redis_up 0$/m);
    expect(Number(/^gatehouse_redis_fallbacks_total (\d+)$/m.exec(scraped)?.[1])).toBeGreaterThanOrEqual(
      BUDGET + 1 + FAILURE_BUDGET + 1,
    );
  });

  it('goes back to Redis once it is back, by itself', async () => {
    await redis.start();
    expect(await eventually(async () => t.app.services.redisState?.up === true, 10_000)).toBe(true);
    const fallbacks = t.app.services.redisState?.fallbacks ?? 0;
    // The restarted Redis is empty: a key that spends its budget now shows up in it.
    expect(await budgetKeysOf(s.adminKeyA.key.id)).toHaveLength(0);
    expect((await me(s.adminKeyA.privateKey)).statusCode).toBe(200);
    expect(await budgetKeysOf(s.adminKeyA.key.id)).toHaveLength(1);
    expect(t.app.services.redisState?.fallbacks).toBe(fallbacks);
    expect(messages(/Redis is reachable again/)).toHaveLength(1);
    expect((await t.app.inject({ url: '/metrics' })).body).toMatch(/^gatehouse_redis_up 1$/m);
    expect(messages(/Redis is unreachable/)).toHaveLength(1);
  });
});
