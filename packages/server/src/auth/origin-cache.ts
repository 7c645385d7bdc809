import { listLiveCorsOrigins } from '../domain/api-keys.ts';
import type { Db } from '../storage/transaction.ts';

/** How often the set is reloaded, besides whenever a key changes on this instance. */
export const ORIGIN_REFRESH_MS = 5000;

/**
 * Which active key allows which CORS origin, for the whole platform. Preflights carry no credential, so
 * they can only be judged against every key; the set is read from the database every few seconds and
 * whenever a key is revoked or rotated, never per request.
 */
export class OriginCache {
  private byOrigin = new Map<string, Set<number>>();
  private loading: Promise<void> | undefined;
  /** A load queued behind the running one, shared by every caller that asked while it ran. */
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db) {}

  /** Loads the set, then reloads it every {@link ORIGIN_REFRESH_MS}. */
  async start(): Promise<void> {
    await this.refresh();
    // A failed refresh keeps the previous set: the database may be briefly away.
    this.timer = setInterval(() => void this.refresh().catch(() => {}), ORIGIN_REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Origins that some live key allows, for `/metrics`. */
  get size(): number {
    return this.byOrigin.size;
  }

  /**
   * Reloads the set, resolving once a load that *started after this call* has finished: a load already
   * running may have read before the change the caller just committed. Calls made while a load runs
   * share the one queued behind it.
   */
  refresh(): Promise<void> {
    if (!this.loading) {
      this.loading = this.load().finally(() => {
        this.loading = undefined;
      });
      return this.loading;
    }
    this.queued ??= this.loading
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.refresh();
      });
    return this.queued;
  }

  private async load(): Promise<void> {
    const next = new Map<string, Set<number>>();
    for (const { keyId, origins } of await listLiveCorsOrigins(this.db, Date.now())) {
      for (const origin of origins) {
        const keys = next.get(origin);
        if (keys) keys.add(keyId);
        else next.set(origin, new Set([keyId]));
      }
    }
    this.byOrigin = next;
  }

  /** True when at least one active key allows `origin` (the preflight rule). */
  allowsAny(origin: string): boolean {
    return this.byOrigin.has(origin);
  }

  /** True when key `keyId` allows `origin` (the rule for an actual request). */
  allows(origin: string, keyId: number): boolean {
    return this.byOrigin.get(origin)?.has(keyId) ?? false;
  }
}
