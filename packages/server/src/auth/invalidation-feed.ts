import {
  lastInvalidation,
  readInvalidations,
  readInvalidationsAfter,
  readInvalidationsWrittenSince,
} from '../domain/invalidations.ts';
import type { Invalidation } from '../model/types.ts';
import type { Db } from '../storage/transaction.ts';

/**
 * How many skipped ids below a new row are watched. Rows in flight are bounded by the open
 * transactions of every instance (their connection pools), so a larger jump is a sequence skip
 * (PostgreSQL pre-allocates ids and loses them on a crash), not rows yet to commit.
 */
const MAX_GAPS = 256;

/**
 * Reads the `invalidations` table so that no row is missed, in whatever order rows commit.
 *
 * Reading `id > last` alone is not enough on PostgreSQL: a serial id is taken at insert, not at
 * commit, so transaction T1 can take id 10, T2 id 11 and commit first; a poll sees 11, and 10 would
 * never be read. The feed therefore remembers every id it skipped (a gap) and looks for it again at
 * each poll for `lookbackMs`, and {@link resync} re-reads every row written in the last `lookbackMs`
 * and delivers those no poll did. Each row is delivered once. On SQLite writes are serialized and a
 * rolled-back insert gives its id back, so ids commit in order and gaps stay empty.
 */
export class InvalidationFeed {
  /** Highest id read. */
  private head = 0;
  /** Ids skipped by a poll and not yet seen -> when first skipped (epoch ms). */
  private readonly gaps = new Map<number, number>();
  /** Ids already delivered -> their `created_at`, kept while a resync could read them again. */
  private readonly delivered = new Map<number, number>();
  /** Polls and resyncs run one at a time: each reads and moves the same state. */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @param lookbackMs How long a skipped id is looked for, and how far back a resync reads. Rows
   *   must stay in the table at least this long (see `domain/retention.ts`).
   */
  constructor(
    private readonly db: Db,
    private readonly lookbackMs: number,
  ) {}

  /** Starts after the current head: the caches are empty, so no earlier row concerns them. */
  start(now = Date.now()): Promise<void> {
    return this.serialize(async () => {
      this.head = await lastInvalidation(this.db);
      // Rows already visible are marked delivered, so that the first resync does not replay them.
      for (const row of await this.window(now)) this.delivered.set(row.id, row.createdAt);
    });
  }

  /** Rows that became visible since the last call: new ids above the head, and skipped ids that committed since. */
  poll(now = Date.now()): Promise<Invalidation[]> {
    return this.serialize(async () => {
      const fresh = await readInvalidations(this.db, [...this.gaps.keys()]);
      for (const [id, skippedAt] of this.gaps) if (skippedAt <= now - this.lookbackMs) this.gaps.delete(id);
      for (const row of await readInvalidationsAfter(this.db, this.head)) {
        for (let id = Math.max(this.head + 1, row.id - MAX_GAPS); id < row.id; id++) this.gaps.set(id, now);
        this.head = row.id;
        fresh.push(row);
      }
      // Insertion order is id order within a poll: the oldest gaps go first.
      for (const id of this.gaps.keys()) {
        if (this.gaps.size <= MAX_GAPS) break;
        this.gaps.delete(id);
      }
      return this.deliver(fresh);
    });
  }

  /**
   * Rows of the last `lookbackMs` that no poll delivered: the bound on a row missed any other way
   * (a gap given up on or trimmed). `created_at` is the writer's clock, so this assumes instance clocks
   * agree to well within `lookbackMs`.
   */
  resync(now = Date.now()): Promise<Invalidation[]> {
    return this.serialize(async () => {
      const since = now - this.lookbackMs;
      for (const [id, createdAt] of this.delivered) if (createdAt < since) this.delivered.delete(id);
      return this.deliver(await this.window(now));
    });
  }

  private window(now: number): Promise<Invalidation[]> {
    return readInvalidationsWrittenSince(this.db, now - this.lookbackMs);
  }

  private deliver(rows: Invalidation[]): Invalidation[] {
    const out: Invalidation[] = [];
    for (const row of rows) {
      this.gaps.delete(row.id);
      if (this.delivered.has(row.id)) continue;
      this.delivered.set(row.id, row.createdAt);
      out.push(row);
    }
    return out;
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => {});
    return run;
  }
}
