import type { Invalidation } from '../model/types.ts';
import {
  lastInvalidationId,
  listInvalidationsByIds,
  listInvalidationsCreatedSince,
  listInvalidationsSince,
} from '../storage/repositories/invalidations.ts';
import type { Db } from '../storage/transaction.ts';
import { readAfter } from './read-after.ts';

/**
 * The invalidation feed, read by every instance's key cache (auth/invalidation-feed.ts): a row per
 * change to a key (revocation, rotation), written in the change's own transaction.
 */

/** Every invalidation after `afterId`, oldest first, read a page at a time. */
export function readInvalidationsAfter(db: Db, afterId: number): Promise<Invalidation[]> {
  return readAfter(afterId, (after, limit) => listInvalidationsSince(db, after, limit));
}

/** The invalidations among `ids` that are visible now (ids the feed skipped, looked for again). */
export function readInvalidations(db: Db, ids: readonly number[]): Promise<Invalidation[]> {
  return listInvalidationsByIds(db, ids);
}

/** Every invalidation written at or after `since` (epoch ms, by the writer's clock), oldest id first. */
export function readInvalidationsWrittenSince(db: Db, since: number): Promise<Invalidation[]> {
  return readAfter(0, (after, limit) => listInvalidationsCreatedSince(db, since, after, limit));
}

/** The highest invalidation id written so far (0 for none). */
export function lastInvalidation(db: Db): Promise<number> {
  return lastInvalidationId(db);
}
