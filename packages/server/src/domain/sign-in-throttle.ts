import type { Counters } from '../storage/counters.ts';
import { normalizeEmail } from '../storage/repositories/users.ts';

export interface ThrottleLimits {
  /** Sign-in attempts that may fail per account in a window. */
  perAccount: number;
  /** Sign-in attempts that may fail per client address in a window. */
  perIp: number;
  windowMs: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = { perAccount: 10, perIp: 50, windowMs: 15 * 60_000 };

/** An attempt holding its place in the budgets until its outcome is known. */
export interface SignInAttempt {
  readonly accountKey: string;
  readonly ipKey: string;
}

export type Reservation = { ok: true; attempt: SignInAttempt } | { ok: false; retryAfterSeconds: number };

/**
 * Sign-in rate limits (DESIGN.md 3 rule 8): failures are limited per account (password guessing on one
 * account) and per address (one password tried on many accounts). An attempt is charged to both
 * budgets *before* its password is checked and given back once it succeeds, so attempts in flight
 * count: 100 concurrent guesses get no more checks than 100 sequential ones. With Redis, every
 * instance shares the budgets; otherwise each instance enforces them alone.
 */
export class SignInThrottle {
  private generation = 0;

  constructor(
    private readonly counters: Counters,
    readonly limits: ThrottleLimits = DEFAULT_LIMITS,
  ) {}

  /** Takes a place for an attempt, or says how long until one is free. */
  async reserve(email: string, ip: string): Promise<Reservation> {
    const attempt = {
      accountKey: `signin:${this.generation}:a:${normalizeEmail(email)}`,
      ipKey: `signin:${this.generation}:i:${ip}`,
    };
    const taken = await this.counters.take(
      [
        { key: attempt.accountKey, limit: this.limits.perAccount },
        { key: attempt.ipKey, limit: this.limits.perIp },
      ],
      this.limits.windowMs,
    );
    if (!taken.ok) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(taken.retryAfterMs / 1000)) };
    return { ok: true, attempt };
  }

  /**
   * A correct password: the attempt is given back to the address and the account's failures are
   * forgiven (the address keeps its other failures: one success proves little about them).
   */
  async succeeded(attempt: SignInAttempt): Promise<void> {
    await this.counters.refund([attempt.ipKey]);
    await this.counters.reset(attempt.accountKey);
  }

  /** The password was never checked (the server was busy): the attempt costs nothing. */
  async cancel(attempt: SignInAttempt): Promise<void> {
    await this.counters.refund([attempt.accountKey, attempt.ipKey]);
  }

  /** Forgets every count (tests): later attempts are counted under new keys. */
  clear(): void {
    this.generation++;
  }
}
