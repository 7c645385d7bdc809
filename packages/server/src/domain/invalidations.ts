import type { Invalidation } from '../model/types.ts';
import {
  lastInvalidationId,
  listInvalidationsByIds,
  listInvalidationsCreatedSince,
  listInvalidationsSince,
} from '../storage/repositories/invalidations.ts';
import type { Db } from '../storage/transaction.ts';

/**
 * The invalidation feed, read by every instance's key cache (auth/invalidation-feed.ts): a row per
 * change to a key (revocation, rotation), written in the change's own transaction.
 */

const PAGE = 1000;

/** Every invalidation after `afterId`, oldest first, read a page at a time. */
export async function readInvalidationsAfter(db: Db, afterId: number): Promise<Invalidation[]> {
  const rows: Invalidation[] = [];
  for (let after = afterId; ; ) {
    const page = await listInvalidationsSince(db, after, PAGE);
    rows.push(...page);
    if (page.length < PAGE) return rows;
    after = page[page.length - 1]?.id ?? after;
  }
}

/** The invalidations among `ids` that are visible now (ids the feed skipped, looked for again). */
export function readInvalidations(db: Db, ids: readonly number[]): Promise<Invalidation[]> {
  return listInvalidationsByIds(db, ids);
}

/** Every invalidation written at or after `since` (epoch ms, by the writer's clock), oldest id first. */
export async function readInvalidationsWrittenSince(db: Db, since: number): Promise<Invalidation[]> {
  const rows: Invalidation[] = [];
  for (let after = 0; ; ) {
    const page = await listInvalidationsCreatedSince(db, since, after, PAGE);
    rows.push(...page);
    if (page.length < PAGE) return rows;
    after = page[page.length - 1]?.id ?? after;
  }
}

/** The highest invalidation id written so far (0 for none). */
export function lastInvalidation(db: Db): Promise<number> {
  return lastInvalidationId(db);
}
