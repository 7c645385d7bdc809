import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient, RedisState } from '../storage/redis.ts';
import { SharedWindows } from './shared-windows.ts';

/** The Redis the tests share (.ci/run starts it), as test/rate-limit.test.ts uses it. */
const REDIS_URL = 'redis://127.0.0.1:6379';
const MINUTE = 60_000;

/** What SharedWindows reads of the Redis state: whether it is up, and a count of fallbacks. */
function stateStub(up: boolean): RedisState & { fallbacks: number } {
  const state = {
    up,
    fallbacks: 0,
    fellBack() {
      state.fallbacks++;
    },
  };
  // Sound: SharedWindows only reads `up` and calls `fellBack()`.
  return state as unknown as RedisState & { fallbacks: number };
}

describe('SharedWindows: fixed windows in Redis, with this instance as fallback', () => {
  const prefix = `gatehouse-test-${randomBytes(6).toString('hex')}:rl:`;
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('shares one count between instances, under the prefix, expiring with the window', async () => {
    const state = stateStub(true);
    const one = new SharedWindows(redis, state, prefix, MINUTE, 10);
    const other = new SharedWindows(redis, state, prefix, MINUTE, 10);
    expect(await one.hit('key:1')).toEqual({ count: 1, ttlMs: MINUTE });
    expect((await other.hit('key:1')).count).toBe(2);
    const third = await one.hit('key:1');
    expect(third.count).toBe(3);
    expect(third.ttlMs).toBeGreaterThan(0);
    expect(third.ttlMs).toBeLessThanOrEqual(MINUTE);
    const pttl = await redis.pttl(`${prefix}key:1`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(MINUTE);
    expect(state.fallbacks).toBe(0);
  });

  it('peeks without counting', async () => {
    const windows = new SharedWindows(redis, stateStub(true), prefix, MINUTE, 10);
    expect(await windows.peek('key:2')).toEqual({ count: 0, ttlMs: 0 });
    await windows.hit('key:2');
    expect((await windows.peek('key:2')).count).toBe(1);
    expect((await windows.peek('key:2')).count).toBe(1);
  });

  it('opens the window again for a key that lost its expiry', async () => {
    await redis.set(`${prefix}key:3`, '5');
    const windows = new SharedWindows(redis, stateStub(true), prefix, MINUTE, 10);
    expect((await windows.hit('key:3')).count).toBe(6);
    expect(await redis.pttl(`${prefix}key:3`)).toBeGreaterThan(0);
  });

  it('counts in memory, at once and counted as a fallback, while Redis is known to be away', () => {
    const state = stateStub(false);
    const windows = new SharedWindows(redis, state, `${prefix}away:`, MINUTE, 10);
    // Synchronous: no round trip is attempted.
    expect(windows.hit('key:4')).toEqual({ count: 1, ttlMs: MINUTE });
    expect(windows.hit('key:4')).toMatchObject({ count: 2 });
    expect(windows.peek('key:4')).toMatchObject({ count: 2 });
    expect(state.fallbacks).toBe(3);
  });

  it('answers from memory when a command fails: a request never fails, nor skips its limit, because of Redis', async () => {
    const failing = {
      defineCommand() {},
      gatehouseWindowHit: () => Promise.reject(new Error('Command timed out')),
      gatehouseWindowPeek: () => Promise.reject(new Error('Connection is closed.')),
    };
    const state = stateStub(true);
    // Sound: SharedWindows only defines its two scripts and calls them.
    const windows = new SharedWindows(failing as unknown as RedisClient, state, prefix, MINUTE, 10);
    expect(await windows.hit('key:5')).toEqual({ count: 1, ttlMs: MINUTE });
    expect((await windows.hit('key:5')).count).toBe(2);
    expect((await windows.peek('key:5')).count).toBe(2);
    expect(state.fallbacks).toBe(3);
  });
});
