import { invalidField } from '../errors/errors.ts';
import type { UsageCount, UsageOutcome } from '../model/types.ts';
import {
  addKeyUsage,
  deleteKeyUsageBefore,
  listKeyUsage,
  USAGE_ROWS_PER_STATEMENT,
} from '../storage/repositories/key-usage.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { getKey } from './api-keys.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** How long usage is kept (the retention job deletes older hours). */
export const USAGE_RETENTION_MS = 90 * DAY_MS;
/** How often an instance writes the usage it counted: what another instance's chart may lag by. */
export const USAGE_FLUSH_MS = 5_000;
/** Most buckets one read answers: 90 days of hours (the whole retention), and a day to spare. */
export const MAX_USAGE_BUCKETS = 2_200;
/**
 * Most (key, hour, outcome) counts held in memory between writes. Only reached when writes keep
 * failing for hours; past it, new counts are dropped rather than growing the process without bound.
 */
export const MAX_PENDING_COUNTS = 100_000;

/** Writes a batch of counts; {@link recordUsage} over the database, or a fake in tests. */
export type UsageWriter = (counts: readonly UsageCount[]) => Promise<void>;

/**
 * Requests per key, hour and outcome, counted in memory and written in batches (like `last_used_at`):
 * the hot path pays one Map lookup and an increment, never a database write or an await. Keyed by the
 * key's id, never by anything secret.
 */
export class UsageTally {
  private pending = new Map<string, UsageCount>();
  /** Counts dropped because {@link MAX_PENDING_COUNTS} were waiting for a write that kept failing. */
  dropped = 0;

  constructor(
    private readonly write: UsageWriter,
    private readonly maxPending = MAX_PENDING_COUNTS,
  ) {}

  /** Counts one request of key `keyId` that ended with `outcome`, in the hour of `now`. */
  count(keyId: number, outcome: UsageOutcome, now = Date.now()): void {
    this.add(keyId, now - (now % HOUR_MS), outcome, 1);
  }

  /** How many (key, hour, outcome) counts wait for the next flush. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Writes what was counted, in one batch. The map is swapped before the write starts, so requests
   * counted meanwhile go to the next batch; if the write fails, the batch is merged back (and the
   * error rethrown), so that no count is lost.
   */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.write([...batch.values()]);
    } catch (error) {
      for (const c of batch.values()) this.add(c.apiKeyId, c.hour, c.outcome, c.count);
      throw error;
    }
  }

  private add(apiKeyId: number, hour: number, outcome: UsageOutcome, n: number): void {
    const slot = `${apiKeyId}:${hour}:${outcome}`;
    const pending = this.pending.get(slot);
    if (pending) pending.count += n;
    else if (this.pending.size < this.maxPending)
      this.pending.set(slot, { apiKeyId, hour, outcome, count: n });
    else this.dropped += n;
  }
}

/**
 * Adds a batch of counts to the stored ones: one statement per {@link USAGE_ROWS_PER_STATEMENT}
 * counts, and a larger batch in one transaction, so that a failed batch was written not at all and
 * can be retried whole.
 */
export async function recordUsage(db: Db, counts: readonly UsageCount[]): Promise<void> {
  if (counts.length <= USAGE_ROWS_PER_STATEMENT) return addKeyUsage(db, counts);
  await inTransaction(db, async (trx) => {
    for (let i = 0; i < counts.length; i += USAGE_ROWS_PER_STATEMENT)
      await addKeyUsage(trx, counts.slice(i, i + USAGE_ROWS_PER_STATEMENT));
  });
}

export interface UsageFlushOptions {
  intervalMs?: number | undefined;
  /** Told of a failed write; its counts wait for the next one (the server logs it). */
  onError: (error: unknown) => void;
}

/**
 * Flushes `tally` every {@link USAGE_FLUSH_MS} (never two flushes at once) on a timer that does not
 * keep the process alive; returns the function that stops it and writes what is left.
 */
export function startUsageFlushJob(tally: UsageTally, options: UsageFlushOptions): () => Promise<void> {
  let running: Promise<void> | null = null;
  const run = () => {
    running ??= tally
      .flush()
      .catch(options.onError)
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void run(), options.intervalMs ?? USAGE_FLUSH_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
    await tally.flush().catch(options.onError);
  };
}

/** Deletes the usage of hours that started before `before` (the retention job); returns the rows deleted. */
export function pruneUsage(db: Db, before: number): Promise<number> {
  return deleteKeyUsageBefore(db, before);
}

export type UsageInterval = 'hour' | 'day';

/** A read of usage as asked: instants in epoch ms, each optional. */
export interface UsageQuery {
  from?: number | undefined;
  to?: number | undefined;
  interval?: UsageInterval | undefined;
}

/** Whole buckets to read: [from, to), both on bucket boundaries (hours, or days in UTC). */
export interface UsageRange {
  from: number;
  to: number;
  interval: UsageInterval;
}

const STEP: Record<UsageInterval, number> = { hour: HOUR_MS, day: DAY_MS };
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;

/**
 * The buckets a query asks for, rounded out to whole hours (or UTC days). By default the hourly last
 * 7 days: the 168 hours up to and including the current one. Refuses (400, naming the field) a `from`
 * not before `to`, a `from` older than the 90 days usage is kept, and more than
 * {@link MAX_USAGE_BUCKETS} buckets.
 */
export function usageRange(query: UsageQuery, now = Date.now()): UsageRange {
  const interval = query.interval ?? 'hour';
  const step = STEP[interval];
  const end = query.to ?? now;
  // By default up to the end of the current bucket, so that it is always included.
  const to = query.to === undefined ? floorTo(now, step) + step : ceilTo(query.to, step);
  const asked = query.from ?? to - 7 * DAY_MS;
  if (!(asked < end)) throw invalidField('from', 'from must be before to (by default, now)');
  const from = floorTo(asked, step);
  // Whole days, so that a client's own `now - 90 days` is never refused for the milliseconds it took.
  if (from < floorTo(now - USAGE_RETENTION_MS, DAY_MS))
    throw invalidField('from', 'usage is kept 90 days: from must be within the last 90 days');
  if ((to - from) / step > MAX_USAGE_BUCKETS)
    throw invalidField('to', `at most ${MAX_USAGE_BUCKETS} ${interval}s per request`);
  return { from, to, interval };
}

/** Requests in one bucket, per outcome. */
export interface UsageBucket {
  /** Epoch ms of the bucket's start. */
  start: number;
  accepted: number;
  revoked: number;
  expired: number;
  rotatedOut: number;
  rateLimited: number;
}

export type UsageTotals = Omit<UsageBucket, 'start'> & {
  /** Every refusal: revoked, expired, rotated out and rate limited. */
  refused: number;
};

/** A key's usage over a range: every bucket, those without requests included (as zeros), and totals. */
export interface KeyUsage extends UsageRange {
  publicKey: string;
  buckets: UsageBucket[];
  totals: UsageTotals;
}

const FIELD: Record<UsageOutcome, keyof Omit<UsageBucket, 'start'>> = {
  accepted: 'accepted',
  revoked: 'revoked',
  expired: 'expired',
  rotated_out: 'rotatedOut',
  rate_limited: 'rateLimited',
};

/** Sums hourly counts into the range's buckets (pure: the console's tests build usage with it too). */
export function summarizeUsage(
  publicKey: string,
  range: UsageRange,
  counts: readonly UsageCount[],
): KeyUsage {
  const step = STEP[range.interval];
  const buckets: UsageBucket[] = [];
  for (let start = range.from; start < range.to; start += step)
    buckets.push({ start, accepted: 0, revoked: 0, expired: 0, rotatedOut: 0, rateLimited: 0 });
  const totals: UsageTotals = {
    accepted: 0,
    revoked: 0,
    expired: 0,
    rotatedOut: 0,
    rateLimited: 0,
    refused: 0,
  };
  for (const c of counts) {
    const bucket = buckets[Math.floor((c.hour - range.from) / step)];
    if (!bucket) continue;
    const field = FIELD[c.outcome];
    // A row written by a later version with an outcome this one does not know is left out.
    if (!field) continue;
    bucket[field] += c.count;
    totals[field] += c.count;
    if (field !== 'accepted') totals.refused += c.count;
  }
  return { publicKey, ...range, buckets, totals };
}

/**
 * The usage of one key of the organization over `range`; another organization's key is a 404, like
 * one that does not exist. Reads what is stored: counts still in an instance's memory appear after its
 * next flush.
 */
export async function readKeyUsage(
  db: Db,
  publicKey: string,
  tenantId: number,
  range: UsageRange,
): Promise<KeyUsage> {
  const key = await getKey(db, publicKey, tenantId);
  return summarizeUsage(key.publicKey, range, await listKeyUsage(db, key.id, range.from, range.to));
}
