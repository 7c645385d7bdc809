import { LRUCache } from 'lru-cache';
import { normalizeEmail } from '../storage/repositories/users.ts';

export interface ThrottleLimits {
  /** Failed sign-ins allowed per account in a window. */
  perAccount: number;
  /** Failed sign-ins allowed per client address in a window. */
  perIp: number;
  windowMs: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = { perAccount: 10, perIp: 50, windowMs: 15 * 60_000 };

interface Counter {
  failures: number;
  resetAt: number;
}

/**
 * Sign-in rate limits (DESIGN.md 3 rule 8): failures are counted per account (against password
 * guessing on one account) and per address (against trying one password on many accounts). In-process
 * LRU counters: bounded memory whatever the number of addresses an attacker uses, and on several
 * instances each one enforces its own limit, which still bounds guessing.
 */
export class LoginThrottle {
  private readonly counters: LRUCache<string, Counter>;

  constructor(readonly limits: ThrottleLimits = DEFAULT_LIMITS) {
    this.counters = new LRUCache({ max: 100_000, ttl: limits.windowMs });
  }

  private keys(email: string, ip: string): [string, number][] {
    return [
      [`a:${normalizeEmail(email)}`, this.limits.perAccount],
      [`i:${ip}`, this.limits.perIp],
    ];
  }

  /** Seconds until the caller may try again, or 0 when a sign-in attempt is allowed now. */
  retryAfter(email: string, ip: string, now = Date.now()): number {
    let wait = 0;
    for (const [key, limit] of this.keys(email, ip)) {
      const counter = this.counters.get(key);
      if (counter && counter.resetAt > now && counter.failures >= limit)
        wait = Math.max(wait, Math.ceil((counter.resetAt - now) / 1000));
    }
    return wait;
  }

  /** Counts a failed attempt against both the account and the address. */
  recordFailure(email: string, ip: string, now = Date.now()): void {
    for (const [key] of this.keys(email, ip)) {
      const counter = this.counters.get(key);
      if (counter && counter.resetAt > now) counter.failures++;
      else this.counters.set(key, { failures: 1, resetAt: now + this.limits.windowMs });
    }
  }

  /** A successful sign-in clears the account's count (not the address's: one success proves little). */
  recordSuccess(email: string): void {
    this.counters.delete(`a:${normalizeEmail(email)}`);
  }

  /** Forgets every counter (tests). */
  clear(): void {
    this.counters.clear();
  }
}
