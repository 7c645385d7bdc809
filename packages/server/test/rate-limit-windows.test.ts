import type { LightMyRequestResponse } from 'fastify';
import { afterEach, expect, it, vi } from 'vitest';
import { createApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import { useSeededApp } from './helpers/seeded-app.ts';
import { describeEachDialect } from './helpers/test-app.ts';

const LIMIT = 3;

const remainingOf = (res: LightMyRequestResponse) => res.headers['ratelimit-remaining'];

/**
 * The limiter's fixed windows (http/window-table.ts) as a client meets them: one-minute windows, a
 * HEAD counted like its GET, addresses counted by /64, and a 429 that says when to come back.
 */
describeEachDialect('rate-limit windows', (dialect) => {
  const ctx = useSeededApp(dialect, { GATEHOUSE_RATE_LIMIT: String(LIMIT) });
  afterEach(() => {
    vi.useRealTimers();
  });

  const freshKey = async () =>
    (await createApiKey(ctx.app.services.db, { tenantId: ctx.seed.a.tenantId }, CLI_ACTOR)).privateKey;
  const me = (key: string, method: 'GET' | 'HEAD' = 'GET') =>
    ctx.app.inject({ method, url: '/me', headers: { 'x-api-key': key } });
  /** A route without credential: its budget is the address's. */
  const discovery = (remoteAddress: string) =>
    ctx.app.inject({ url: '/.well-known/openid-configuration', remoteAddress });

  it('makes a spent budget whole again once its minute has passed', async () => {
    const key = await freshKey();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    for (let i = 0; i < LIMIT; i++) expect((await me(key)).statusCode).toBe(200);
    expect((await me(key)).statusCode).toBe(429);
    vi.advanceTimersByTime(59_000);
    const stillRefused = await me(key);
    expect(stillRefused.statusCode).toBe(429);
    expect(stillRefused.headers['retry-after']).toBe('1');
    vi.advanceTimersByTime(1_000);
    const whole = await me(key);
    expect(whole.statusCode).toBe(200);
    expect(remainingOf(whole)).toBe(String(LIMIT - 1));
    expect(whole.headers['ratelimit-reset']).toBe('60');
  });

  it('says in the 429 when to retry, as Retry-After does', async () => {
    const key = await freshKey();
    for (let i = 0; i < LIMIT; i++) await me(key);
    const refused = await me(key);
    expect(refused.statusCode).toBe(429);
    const seconds = Number(refused.headers['retry-after']);
    expect(refused.headers['ratelimit-reset']).toBe(String(seconds));
    expect(refused.json().detail).toBe(
      seconds === 60
        ? 'too many requests; retry in 1 minute'
        : `too many requests; retry in ${seconds} seconds`,
    );
  });

  it('counts a HEAD request once, like its GET', async () => {
    const key = await freshKey();
    const head = await me(key, 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(remainingOf(head)).toBe(String(LIMIT - 1));
    expect(remainingOf(await me(key))).toBe(String(LIMIT - 2));
  });

  it('counts IPv6 clients by /64 and IPv4-mapped addresses as their IPv4 address', async () => {
    for (const address of ['2001:db8:7:1::a', '2001:db8:7:1::b', '2001:db8:7:1:ffff::1'])
      expect((await discovery(address)).statusCode).toBe(200);
    expect((await discovery('2001:db8:7:1::c')).statusCode).toBe(429);
    expect((await discovery('2001:db8:7:2::a')).statusCode).toBe(200);

    for (const address of ['203.0.113.77', '::ffff:203.0.113.77', '203.0.113.77'])
      expect((await discovery(address)).statusCode).toBe(200);
    expect((await discovery('::ffff:203.0.113.77')).statusCode).toBe(429);
  });

  it('shows at /rate-limiting-state the window the limiter counts in', async () => {
    const key = await freshKey();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const start = Date.now();
    await me(key);
    vi.advanceTimersByTime(20_000);
    const state = (
      await ctx.app.inject({ url: '/rate-limiting-state', headers: { 'x-api-key': key } })
    ).json();
    expect(state).toEqual({
      limit: LIMIT,
      remaining: LIMIT - 2,
      resetAt: new Date(start + 60_000).toISOString(),
    });
  });
});
