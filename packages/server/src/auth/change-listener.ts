import type { ChangeNotice, ChangeNotificationHandlers } from '../storage/notifications.ts';
import type { BearerVerifier } from './bearer-verifier.ts';
import type { Denylist } from './denylist.ts';
import type { KeyCache } from './key-cache.ts';
import type { KeyRing } from './key-ring.ts';
import type { OriginCache } from './origin-cache.ts';

/** The caches a committed change can concern. */
export interface ChangeTargets {
  keys: KeyCache;
  denylist: Denylist;
  keyRing: KeyRing;
  origins: OriginCache;
  bearer: BearerVerifier;
}

/** Where notifications come from: the listening connection of storage/notifications.ts. */
export interface ChangeSource {
  /** Its `application_name` in `pg_stat_activity`. */
  readonly applicationName: string;
  readonly isListening: boolean;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A table whose changes are announced (migration 008). */
export type ChangeTable = ChangeNotice['table'];

/** Plain counters, read by `/metrics` at scrape time. */
export interface ChangeStats {
  /** Notifications received. */
  received: number;
  /** Notifications applied to this instance's caches (each also reported to {@link ChangeListener.onApplied}). */
  applied: number;
  /** Notifications whose poll failed (the periodic poll applies them later). */
  failed: number;
  /** Payloads on our channel that are not ours. */
  ignored: number;
  /** Times the listening connection was re-established after a loss. */
  reconnects: number;
}

/**
 * Push invalidation (DESIGN.md 2 "Hot paths"): applies the changes other instances commit as soon as
 * PostgreSQL announces them, instead of at the next poll.
 *
 * How invalidation reaches other instances: on PostgreSQL every committed change to keys, secrets,
 * revoked tokens, signing keys, memberships and consents NOTIFYs this schema's channel from a trigger,
 * in the change's own transaction, so only once it has committed (a rolled-back change announces
 * nothing). Each instance LISTENs on one dedicated connection and, on receipt, runs at once (coalesced)
 * the poll that applies it: the key cache's invalidation feed (then the CORS origins), the key ring's
 * reload; a revoked token's jti and a member's user id come in the notification itself and apply with
 * no read. Consents are cached nowhere (read at each authorization); the tokens a withdrawal revokes
 * arrive as revoked tokens. After a lost connection it reconnects (100 ms doubling to 5 s) and re-reads
 * everything it may have missed. On SQLite there is no LISTEN: polling is the path.
 *
 * The bound when a notification is lost: polling never stops, so a change still applies within the
 * poll interval: 1 s for keys and secrets (the invalidation feed) and revoked tokens (the denylist),
 * 5 s for signing keys and CORS origins, 10 s for a member's role and workspaces (their cache TTL).
 * A feed or denylist row that even the polls miss (an id committed out of order and given up on) is
 * caught by the resync every 60 s, and no cached key outlives its 60 s TTL without a database read.
 */
export class ChangeListener {
  readonly stats: ChangeStats = { received: 0, applied: 0, failed: 0, ignored: 0, reconnects: 0 };
  private source: ChangeSource | null = null;
  private readonly keyPoll: Coalesced;
  private readonly ringReload: Coalesced;
  /** Members' user ids received in this tick, forgotten in one pass over the token cache. */
  private users: { ids: Set<number>; notices: ChangeNotice[] } | undefined;
  private readonly appliedListeners: ((table: ChangeTable, lagMs: number) => void)[] = [];
  private lastReported: unknown;

  constructor(
    private readonly targets: ChangeTargets,
    private readonly options: { onError?: (error: unknown) => void } = {},
  ) {
    this.keyPoll = new Coalesced(() => targets.keys.poll());
    this.ringReload = new Coalesced(() => targets.keyRing.refresh());
  }

  /**
   * Opens the source `open` builds (null: none, as on SQLite) and waits for its first connection
   * attempt; a failed one retries in the background.
   */
  async start(open: (handlers: ChangeNotificationHandlers) => ChangeSource | null): Promise<void> {
    this.source = open({
      onNotice: (notice) => this.apply(notice),
      onListening: (reconnected) => {
        if (reconnected) this.stats.reconnects++;
        void this.catchUp().catch((error: unknown) => this.report(error));
      },
      onDown: (error) => this.options.onError?.(error),
      onMalformed: () => {
        this.stats.ignored++;
      },
    });
    await this.source?.start();
  }

  /** UNLISTENs and closes the connection. */
  async stop(): Promise<void> {
    await this.source?.close();
  }

  /** Whether changes are pushed to this instance now (false on SQLite, and while reconnecting). */
  get listening(): boolean {
    return this.source?.isListening ?? false;
  }

  /** The listening connection's `application_name` (null on SQLite), to find it in `pg_stat_activity`. */
  get connectionName(): string | null {
    return this.source?.applicationName ?? null;
  }

  /**
   * Calls `listener` for each notification once applied, with its lag: from when the change was
   * written (the database server's clock) to when this instance's cache reflected it (ours), in ms.
   */
  onApplied(listener: (table: ChangeTable, lagMs: number) => void): void {
    this.appliedListeners.push(listener);
  }

  /** Applies one notification to the caches it concerns. */
  apply(notice: ChangeNotice): void {
    this.stats.received++;
    switch (notice.table) {
      case 'invalidations':
        this.after(this.keyPoll.run(), notice);
        break;
      case 'signing_keys':
        this.after(this.ringReload.run(), notice);
        break;
      case 'revoked_tokens': {
        const { jti, clientId, expiresAt } = notice;
        if (expiresAt > Date.now()) this.targets.denylist.revoked([{ jti, clientId, expiresAt }]);
        this.applied(notice);
        break;
      }
      case 'memberships':
      case 'membership_workspaces':
        this.forgetUser(notice);
        break;
      case 'consents':
        this.applied(notice);
        break;
    }
  }

  /** Reads whatever was missed while nothing listened: every poll and resync, once. */
  async catchUp(): Promise<void> {
    const { keys, denylist, origins, bearer } = this.targets;
    bearer.forgetEveryUser();
    await Promise.all([
      this.keyPoll.run().then(() => keys.resync()),
      denylist.resync(),
      this.ringReload.run(),
      origins.refresh(),
    ]);
  }

  private forgetUser(notice: ChangeNotice & { userId: number }): void {
    if (this.users) {
      this.users.ids.add(notice.userId);
      this.users.notices.push(notice);
      return;
    }
    this.users = { ids: new Set([notice.userId]), notices: [notice] };
    // Notifications that arrived in one read from the socket are delivered in one tick.
    queueMicrotask(() => {
      const batch = this.users;
      this.users = undefined;
      if (!batch) return;
      this.targets.bearer.forgetUsers(batch.ids);
      for (const each of batch.notices) this.applied(each);
    });
  }

  private after(done: Promise<void>, notice: ChangeNotice): void {
    done.then(
      () => this.applied(notice),
      (error: unknown) => {
        this.stats.failed++;
        this.report(error);
      },
    );
  }

  private applied(notice: ChangeNotice): void {
    this.stats.applied++;
    // The two clocks are different machines' in production: a lag below zero is skew, not time travel.
    const lagMs = Math.max(0, Date.now() - notice.at);
    for (const listener of this.appliedListeners) listener(notice.table, lagMs);
  }

  /** A failed run is shared by every notification it served: reported once. */
  private report(error: unknown): void {
    if (error === this.lastReported) return;
    this.lastReported = error;
    this.options.onError?.(error);
  }
}

/**
 * A task run at most once at a time: a call while it runs queues one more run, shared by every call
 * made meanwhile, so a burst of notifications costs two reads, not one per notification.
 */
class Coalesced {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly task: () => Promise<void>) {}

  /** Resolves once a run that started after this call has finished (one already running may predate the change). */
  run(): Promise<void> {
    if (!this.running) return this.begin();
    this.queued ??= this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.begin();
      });
    return this.queued;
  }

  private begin(): Promise<void> {
    const run = this.task().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
