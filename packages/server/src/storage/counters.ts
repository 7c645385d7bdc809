import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { ENTRY_OVERHEAD, objectBytes, stringBytes } from '../model/memory-size.ts';
import type { RedisState } from './redis.ts';

/** One budget: at most `limit` units per window under `key`. */
export interface BudgetSpec {
  key: string;
  limit: number;
}

/** The answer of {@link Counters.take}: taken, or refused with how long until the first spent budget resets. */
export type Take = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Fixed-window counters that are taken *before* the work they pay for, so that concurrent requests
 * cannot all pass a check that only their results would fail (DESIGN.md 3 rules 8 and 9). `take` is
 * atomic over all the budgets it is given: all are charged, or none.
 */
export interface Counters {
  /** Charges one unit to every budget, unless one of them is already spent. */
  take(budgets: readonly BudgetSpec[], windowMs: number): Promise<Take>;
  /** Gives back a unit that {@link take} charged (the work turned out not to count). */
  refund(keys: readonly string[]): Promise<void>;
  /** Forgets a budget's count. */
  reset(key: string): Promise<void>;
}

/** The memory the counters of one process may use. */
export const COUNTER_BYTES = 16 * 1024 * 1024;

interface Window {
  used: number;
  resetAt: number;
}

/**
 * Counters in this process: bounded memory whatever the number of keys an attacker makes up (the least
 * recently used are forgotten first). No method awaits anything before it returns, so `take` is atomic.
 */
export class MemoryCounters implements Counters {
  private readonly windows: LRUCache<string, Window>;

  /** `maxBytes`: about 150 bytes a budget, so some 100,000 budgets by default (model/memory-size.ts). */
  constructor(maxBytes = COUNTER_BYTES) {
    this.windows = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (_window, key) => ENTRY_OVERHEAD + stringBytes(key) + objectBytes(2),
    });
  }

  async take(budgets: readonly BudgetSpec[], windowMs: number): Promise<Take> {
    const now = Date.now();
    let retryAfterMs = 0;
    for (const { key, limit } of budgets) {
      const window = this.live(key, now);
      if (window && window.used >= limit) retryAfterMs = Math.max(retryAfterMs, window.resetAt - now);
    }
    if (retryAfterMs > 0) return { ok: false, retryAfterMs };
    for (const { key } of budgets) {
      const window = this.live(key, now);
      if (window) window.used++;
      else this.windows.set(key, { used: 1, resetAt: now + windowMs });
    }
    return { ok: true };
  }

  async refund(keys: readonly string[]): Promise<void> {
    const now = Date.now();
    for (const key of keys) {
      const window = this.live(key, now);
      if (window && window.used > 0) window.used--;
    }
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  private live(key: string, now: number): Window | undefined {
    const window = this.windows.get(key);
    return window && window.resetAt > now ? window : undefined;
  }
}

/**
 * KEYS: the budgets; ARGV[1]: the window in ms; ARGV[2..]: each budget's limit. Checks every budget,
 * then charges all of them, in one script: Redis runs it without interleaving any other command.
 * Returns 0 when taken, else the milliseconds until the spent budget resets.
 */
const TAKE = `
local wait = 0
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 0`;

/** Decrements each existing budget that is above zero (a key that expired meanwhile stays gone). */
const REFUND = `
for _, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used > 0 then redis.call('DECR', key) end
end
return 0`;

/**
 * Counters in Redis, shared by every instance. While Redis is unreachable, this instance falls back
 * to its own memory counters: each instance then enforces the budgets alone, which still bounds what
 * an attacker gets, instead of letting every attempt through. While `state` says Redis is away, the
 * memory counters answer without trying it; once it is ready again, Redis answers again (the memory
 * counts of the outage are not carried over: a budget restarts whole there at worst once).
 */
export class RedisCounters implements Counters {
  private readonly fallback = new MemoryCounters();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly state?: RedisState,
  ) {}

  async take(budgets: readonly BudgetSpec[], windowMs: number): Promise<Take> {
    if (this.away()) return this.fallback.take(budgets, windowMs);
    try {
      const wait = Number(
        await this.redis.eval(
          TAKE,
          budgets.length,
          ...budgets.map((b) => this.prefix + b.key),
          windowMs,
          ...budgets.map((b) => b.limit),
        ),
      );
      return wait > 0 ? { ok: false, retryAfterMs: wait } : { ok: true };
    } catch {
      this.state?.fellBack();
      return this.fallback.take(budgets, windowMs);
    }
  }

  async refund(keys: readonly string[]): Promise<void> {
    if (!keys.length) return;
    if (this.away()) return this.fallback.refund(keys);
    try {
      await this.redis.eval(REFUND, keys.length, ...keys.map((k) => this.prefix + k));
    } catch {
      this.state?.fellBack();
      await this.fallback.refund(keys);
    }
  }

  async reset(key: string): Promise<void> {
    if (this.away()) return this.fallback.reset(key);
    try {
      await this.redis.del(this.prefix + key);
    } catch {
      this.state?.fellBack();
      await this.fallback.reset(key);
    }
  }

  /** True (and counted) when Redis is known to be away: the memory counters answer at once. */
  private away(): boolean {
    if (!this.state || this.state.up) return false;
    this.state.fellBack();
    return true;
  }
}
