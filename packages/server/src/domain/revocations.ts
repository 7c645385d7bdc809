import type { RevokedToken } from '../model/types.ts';
import {
  insertRevokedToken,
  lastRevokedTokenId,
  listRevokedTokensSince,
  pruneRevokedTokens,
} from '../storage/repositories/revoked-tokens.ts';
import type { Db } from '../storage/transaction.ts';
import { readAfter } from './read-after.ts';

/** An access token that must no longer be accepted, until its own expiry. */
export interface RevokedAccessToken {
  jti: string;
  /** The public key of the client it was issued to. */
  clientId: string;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * This instance's in-memory denylist. Every instance learns of a revocation by polling the table;
 * the one that makes it is told directly, so the token is refused before the revoking request is
 * answered (DESIGN.md 2).
 */
export interface RevocationSink {
  revoked(tokens: readonly RevokedAccessToken[]): void;
}

/** For processes that serve no tokens (the CLI): the servers learn of it by polling. */
export const NO_LOCAL_DENYLIST: RevocationSink = { revoked: () => {} };

/**
 * The one way access tokens are revoked: recorded for every instance and effective on this one at
 * once. Call inside the transaction of the change that revokes them; this instance refuses them from
 * the moment of the call, even if that transaction later fails (refusing too early is the safe side).
 */
export async function revokeAccessTokens(
  trx: Db,
  sink: RevocationSink,
  tokens: readonly RevokedAccessToken[],
  now: number,
): Promise<void> {
  if (!tokens.length) return;
  sink.revoked(tokens);
  for (const token of tokens) await insertRevokedToken(trx, token, now);
}

/** Every revocation after `afterId` whose token is still unexpired at `now`, oldest first. */
export function readRevocationsAfter(db: Db, afterId: number, now: number): Promise<RevokedToken[]> {
  return readAfter(afterId, (after, limit) => listRevokedTokensSince(db, after, now, limit));
}

/** The highest revocation id written so far (0 for none). */
export function lastRevocation(db: Db): Promise<number> {
  return lastRevokedTokenId(db);
}

/** Forgets revocations whose token has expired: such a token is refused for its `exp` alone. */
export function pruneRevocations(db: Db, now: number): Promise<void> {
  return pruneRevokedTokens(db, now);
}
