import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { deleteAuditEventsBefore } from '../storage/repositories/audit.ts';
import { pruneInvalidations } from '../storage/repositories/invalidations.ts';
import { deleteDeadSignInLinks } from '../storage/repositories/sign-in-links.ts';
import type { Db } from '../storage/transaction.ts';
import { pruneUsage, USAGE_RETENTION_MS } from './key-usage.ts';
import { pruneGrantRecords } from './refresh-tokens.ts';
import { pruneSessions } from './sessions.ts';

const DAY_MS = 86_400_000;

/**
 * How far back a key cache looks for invalidations that committed out of id order
 * (`KeyCacheOptions.lookbackMs`, see auth/invalidation-feed.ts).
 */
export const INVALIDATION_LOOKBACK_MS = 5 * 60_000;

/**
 * Age after which an invalidation can concern no cache: twice the lookback. Beyond the lookback no cache
 * reads a row again, and a cache that starts later begins after the newest row (which is never deleted).
 * Every cache entry lives at most its TTL (60 s) anyway, far less than either bound.
 */
export const INVALIDATION_RETENTION_MS = 2 * INVALIDATION_LOOKBACK_MS;

/** Rows per audit delete: small enough that a statement holds its locks for milliseconds. */
const AUDIT_BATCH = 1000;

/** How long records are kept: `Config` satisfies it (GATEHOUSE_AUDIT_RETENTION_DAYS). */
export interface RetentionPolicy {
  readonly auditRetentionDays: number;
  /** Refresh-token lifetime in seconds: how long a used code can still revoke something alive. */
  readonly refreshTokenTtl: number;
}

/** How many rows one run deleted, per table. */
export interface PruneResult {
  invalidations: number;
  auditEvents: number;
  keyUsage: number;
}

/**
 * Deletes records that nothing can need any more: key-cache invalidations older than
 * {@link INVALIDATION_RETENTION_MS}, audit events older than the retention policy, expired sessions,
 * expired grant records (refresh tokens, access-token records, old codes), and key usage older than
 * {@link USAGE_RETENTION_MS} (90 days). Revoked-token rows are not handled here: the denylist's resync
 * already deletes those whose token has expired.
 */
export async function pruneExpiredRecords(
  db: Db,
  policy: RetentionPolicy,
  now = Date.now(),
): Promise<PruneResult> {
  const invalidations = await pruneInvalidations(db, now - INVALIDATION_RETENTION_MS);
  await pruneSessions(db, now);
  await deleteDeadSignInLinks(db, now);
  await pruneGrantRecords(db, policy.refreshTokenTtl * 1000, now);
  const keyUsage = await pruneUsage(db, now - USAGE_RETENTION_MS);
  const cutoff = now - policy.auditRetentionDays * DAY_MS;
  let auditEvents = 0;
  for (;;) {
    const deleted = await deleteAuditEventsBefore(db, cutoff, AUDIT_BATCH);
    auditEvents += deleted;
    if (deleted < AUDIT_BATCH) break;
    // SQLite's driver is synchronous: between batches, requests waiting on the event loop go first.
    await yieldToEventLoop();
  }
  return { invalidations, auditEvents, keyUsage };
}

export interface RetentionJobOptions {
  /** Interval between runs; default 10 minutes. */
  intervalMs?: number;
  /** Told of a failed run; the job keeps its schedule (the server logs it). */
  onError: (error: unknown) => void;
  /** Told of each run's counts, for logs. */
  onPruned?: (result: PruneResult) => void;
}

/**
 * Runs {@link pruneExpiredRecords} on an interval that never keeps the process alive; returns the
 * function that stops it. A run still going when the next is due is not overlapped by it. Every instance
 * may run it: the deletes are idempotent.
 */
export function startRetentionJob(db: Db, policy: RetentionPolicy, options: RetentionJobOptions): () => void {
  let running = false;
  const timer = setInterval(
    () => {
      if (running) return;
      running = true;
      void pruneExpiredRecords(db, policy)
        .then((result) => options.onPruned?.(result))
        .catch(options.onError)
        .finally(() => {
          running = false;
        });
    },
    options.intervalMs ?? 10 * 60_000,
  );
  timer.unref();
  return () => clearInterval(timer);
}
