import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/http.ts';
import { createTestApp, describeEachDialect, type TestApp } from '../helpers/test-app.ts';
import { PrivateRedis } from './outage-tools.ts';

describeEachDialect('GET /readyz and GET /healthz', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    // A budget of 1 request a minute: the probes must not spend it.
    t = await createTestApp(dialect, { GATEHOUSE_RATE_LIMIT: '1' });
  });
  afterAll(() => t.close());

  it('/readyz answers 200 ready with the database up, never cached', async () => {
    const res = await t.app.inject({ url: '/readyz' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    // No Redis configured: only the database is checked.
    expect(res.json()).toEqual({ status: 'ready', checks: { database: 'up' } });
  });

  it('/readyz and /healthz are never rate limited', async () => {
    for (let i = 0; i < 5; i++) {
      for (const url of ['/readyz', '/healthz']) {
        const res = await t.app.inject({ url });
        expect(res.statusCode, `${url} ${res.body}`).toBe(200);
        expect(res.headers['ratelimit-limit']).toBeUndefined();
      }
    }
  });

  it('/healthz is liveness: it answers without touching the database, even a closed one', async () => {
    const other = await createTestApp(dialect);
    try {
      await other.storage.close();
      expect((await other.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
      const ready = await other.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ checks: { database: 'down' } });
    } finally {
      await other.app.close();
    }
  });
});

describe('GET /readyz with Redis (a private redis-server the test stops and starts)', () => {
  let redis: PrivateRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    t = await createTestApp('sqlite', { GATEHOUSE_REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const readyz = () => t.app.inject({ url: '/readyz' });

  it('answers 200 with both checks up', async () => {
    const res = await readyz();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { database: 'up', redis: 'up' } });
  });

  it('answers a 503 problem naming redis while it is stopped, within 500 ms, and 200 again once it is back', async () => {
    await redis.stop();
    expect(await eventually(async () => (await readyz()).statusCode === 503)).toBe(true);
    const started = Date.now();
    const res = await readyz();
    // The bound the issue states (500 ms per check); a generous margin for a loaded machine.
    expect(Date.now() - started).toBeLessThan(1500);
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toMatchObject({
      type: 'urn:gatehouse:problem:service_unavailable',
      status: 503,
      code: 'service_unavailable',
      detail: 'redis is unreachable',
      checks: { database: 'up', redis: 'down' },
    });
    expect(t.app.services.redisState?.up).toBe(false);

    await redis.start();
    // ioredis reconnects by itself (every 2 s at most): no restart of Gatehouse.
    expect(await eventually(async () => (await readyz()).statusCode === 200, 10_000)).toBe(true);
    expect((await readyz()).json()).toEqual({ status: 'ready', checks: { database: 'up', redis: 'up' } });
    expect(t.app.services.redisState?.outages).toBe(1);
  });
});
