import type { RedisClient, RedisState } from '../storage/redis.ts';
import { type WindowCounters, type WindowState, WindowTable } from './window-table.ts';

/**
 * KEYS[1]: the window's key; ARGV[1]: the window in ms. Counts one request and opens the window
 * with its first (or, should a key have lost its expiry, again): one round trip, atomic in Redis.
 * Returns { count, ms left }.
 */
const HIT = `
local count = redis.call('INCR', KEYS[1])
local ttl = -1
if count > 1 then ttl = redis.call('PTTL', KEYS[1]) end
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }`;

/** KEYS[1]: the window's key. Returns { count, ms left }, or { 0, 0 } when no window is live. */
const PEEK = `
local count = redis.call('GET', KEYS[1])
if not count then return { 0, 0 } end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return { tonumber(count), ttl }`;

/** The scripts as commands of the client (ioredis sends EVALSHA, and the script again after NOSCRIPT). */
interface WindowScripts {
  gatehouseWindowHit(key: string, windowMs: number): Promise<[number, number]>;
  gatehouseWindowPeek(key: string): Promise<[number, number]>;
}

function scripted(redis: RedisClient): RedisClient & WindowScripts {
  if (!('gatehouseWindowHit' in redis)) {
    redis.defineCommand('gatehouseWindowHit', { numberOfKeys: 1, lua: HIT });
    redis.defineCommand('gatehouseWindowPeek', { numberOfKeys: 1, lua: PEEK });
  }
  // Sound: defineCommand has just added both methods to this client, with these arguments.
  return redis as RedisClient & WindowScripts;
}

const stateOf = ([count, ttlMs]: [number, number]): WindowState => ({ count, ttlMs });

/**
 * Fixed windows in Redis, shared by every instance (`prefix` + key), while Redis is ready; this
 * instance's memory ({@link WindowTable}, up to `capacity` windows) otherwise, so that the limits
 * still apply, per instance, while the shared counters are away (DESIGN.md 3 rule 9), and are shared
 * again once Redis is back (the counts of the outage are not carried over). A command that fails
 * (Redis went away mid-request, or stopped answering) is answered from memory too: a request never
 * fails, nor skips its limit, because of Redis. Every answer from memory counts in `state.fallbacks`.
 */
export class SharedWindows implements WindowCounters {
  private readonly redis: RedisClient & WindowScripts;
  private readonly local: WindowTable;

  constructor(
    redis: RedisClient,
    private readonly state: RedisState,
    private readonly prefix: string,
    private readonly windowMs: number,
    capacity: number,
  ) {
    this.redis = scripted(redis);
    this.local = new WindowTable(windowMs, capacity);
  }

  hit(key: string): WindowState | Promise<WindowState> {
    if (!this.state.up) return this.fallBack().hit(key);
    return this.redis
      .gatehouseWindowHit(this.prefix + key, this.windowMs)
      .then(stateOf, () => this.fallBack().hit(key));
  }

  peek(key: string): WindowState | Promise<WindowState> {
    if (!this.state.up) return this.fallBack().peek(key);
    return this.redis.gatehouseWindowPeek(this.prefix + key).then(stateOf, () => this.fallBack().peek(key));
  }

  /** The memory windows, the answer counted as one from memory. */
  private fallBack(): WindowTable {
    this.state.fellBack();
    return this.local;
  }
}
