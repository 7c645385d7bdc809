import {
  lastRevocation,
  pruneRevocations,
  type RevocationSink,
  type RevokedAccessToken,
  readRevocationsAfter,
  revokeAccessTokens,
} from '../domain/revocations.ts';
import type { Db } from '../storage/transaction.ts';

export interface DenylistOptions {
  /** Poll interval of the revoked_tokens table: how fast a revocation reaches the other instances. */
  pollMs?: number | undefined;
  /**
   * Interval of a full reload. Polling by id can miss a row whose (PostgreSQL serial) id was taken
   * before a smaller one committed; the periodic full reload bounds how long such a row goes unseen.
   */
  resyncMs?: number | undefined;
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * Revoked JWT access tokens by `jti` (RFC 7009 2.2: after revocation the token must no longer be
 * accepted). A JWT is checked without a database read, so revocation is a denylist: rows live until the
 * token's own `exp`, and every instance keeps them in memory, refreshed by polling like key-cache.ts.
 */
export class Denylist implements RevocationSink {
  /** jti -> expiry (epoch ms). */
  private byJti = new Map<string, number>();
  private lastId = 0;
  private timers: NodeJS.Timeout[] = [];
  private readonly options: Required<Omit<DenylistOptions, 'onError'>>;

  constructor(
    private readonly db: Db,
    private readonly settings: DenylistOptions = {},
  ) {
    this.options = { pollMs: settings.pollMs ?? 1000, resyncMs: settings.resyncMs ?? 60_000 };
  }

  async start(): Promise<void> {
    await this.resync();
    const onError = (error: unknown) => this.settings.onError?.(error);
    const poll = setInterval(() => void this.poll().catch(onError), this.options.pollMs);
    const resync = setInterval(() => void this.resync().catch(onError), this.options.resyncMs);
    poll.unref();
    resync.unref();
    this.timers = [poll, resync];
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Whether the token with this jti was revoked (on this or any instance, as of the last poll). */
  has(jti: string): boolean {
    return this.byJti.has(jti);
  }

  /** Revoked tokens held in memory (each until its own expiry), for `/metrics`. */
  get size(): number {
    return this.byJti.size;
  }

  /** Revokes a token: recorded for every instance, and effective on this one at once. */
  async revoke(token: RevokedAccessToken, now = Date.now()): Promise<void> {
    await revokeAccessTokens(this.db, this, [token], now);
  }

  /** Refuses these tokens on this instance from now on (see domain/revocations.ts). */
  revoked(tokens: readonly RevokedAccessToken[]): void {
    for (const token of tokens) this.byJti.set(token.jti, token.expiresAt);
  }

  /** Reads revocations recorded since the last poll. */
  async poll(now = Date.now()): Promise<void> {
    for (const row of await readRevocationsAfter(this.db, this.lastId, now)) {
      this.byJti.set(row.jti, row.expiresAt);
      this.lastId = Math.max(this.lastId, row.id);
    }
  }

  /** Reloads every live revocation, forgets expired ones here and in the table. */
  async resync(now = Date.now()): Promise<void> {
    const head = await lastRevocation(this.db);
    const fresh = new Map<string, number>();
    for (const row of await readRevocationsAfter(this.db, 0, now)) fresh.set(row.jti, row.expiresAt);
    // Revocations made on this instance while the reload ran are kept.
    for (const [jti, exp] of this.byJti) if (exp > now && !fresh.has(jti)) fresh.set(jti, exp);
    this.byJti = fresh;
    this.lastId = Math.max(this.lastId, head);
    await pruneRevocations(this.db, now);
  }
}
