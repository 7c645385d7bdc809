import type { ApiKey, RefreshTokenRecord } from '../model/types.ts';
import { deleteStaleCodes, deleteUnusedCodes } from '../storage/repositories/authorization-codes.ts';
import { deleteConsentsOfKey } from '../storage/repositories/consents.ts';
import {
  findRefreshTokenByHash,
  insertGrantAccessToken,
  insertRefreshToken,
  listLiveGrantAccessTokens,
  markRotated,
  pruneGrants,
  revokeFamilies,
  revokeRefreshTokensOf,
} from '../storage/repositories/refresh-tokens.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, audit, keyActor } from './audit.ts';
import { type RevocationSink, revokeAccessTokens } from './revocations.ts';
import { hashSecret, isOpaqueToken, randomToken } from './secrets.ts';

/** Refresh tokens are opaque: `grt_` and 256 random bits. */
const REFRESH_TOKEN_PREFIX = 'grt_';

/** Whether a string has the shape of one of our refresh tokens (RFC 7009 revocation tries it first). */
export function isRefreshToken(token: string): boolean {
  return isOpaqueToken(REFRESH_TOKEN_PREFIX, token);
}

export function newRefreshToken(): { token: string; hash: string } {
  const token = randomToken(REFRESH_TOKEN_PREFIX);
  return { token, hash: hashSecret(token) };
}

/** The stored record of a refresh token, if the string has the shape of one and is known. */
export async function findRefreshToken(db: Db, token: string): Promise<RefreshTokenRecord | undefined> {
  if (!isRefreshToken(token)) return undefined;
  return findRefreshTokenByHash(db, hashSecret(token));
}

/**
 * Revokes whole grants: every refresh token of the families, and the still-valid access tokens
 * issued from them go to the denylist (RFC 7009 2.1, RFC 9700 4.14.2). Call inside a transaction.
 */
export async function revokeFamiliesWithTokens(
  trx: Db,
  sink: RevocationSink,
  familyIds: string[],
  clientId: string,
  now: number,
): Promise<void> {
  await revokeFamilies(trx, familyIds, now);
  const live = await listLiveGrantAccessTokens(trx, { familyIds }, now);
  await revokeAccessTokens(
    trx,
    sink,
    live.map((t) => ({ jti: t.jti, clientId, expiresAt: t.expiresAt })),
    now,
  );
}

/**
 * Revokes everything a user granted to a key: codes not yet exchanged, refresh tokens and live access
 * tokens. In a transaction.
 */
export async function revokeUserGrants(
  trx: Db,
  sink: RevocationSink,
  key: ApiKey,
  userId: number,
  now: number,
): Promise<void> {
  await deleteUnusedCodes(trx, key.id, userId);
  await revokeRefreshTokensOf(trx, key.id, userId, now);
  const live = await listLiveGrantAccessTokens(trx, { apiKeyId: key.id, userId }, now);
  await revokeAccessTokens(
    trx,
    sink,
    live.map((t) => ({ jti: t.jti, clientId: key.publicKey, expiresAt: t.expiresAt })),
    now,
  );
}

/**
 * What revoking a key ends on the user side: its consents are forgotten, its unused codes and its
 * refresh tokens die (its access tokens already fail the key-status check). Called in the key's
 * revocation transaction.
 */
export async function endGrantsOfKey(trx: Db, apiKeyId: number, now: number): Promise<void> {
  await deleteConsentsOfKey(trx, apiKeyId);
  await deleteUnusedCodes(trx, apiKeyId, null);
  await revokeRefreshTokensOf(trx, apiKeyId, null, now);
}

/**
 * RFC 7009 revocation of a refresh token presented by `client`: its whole grant is revoked, with the
 * access tokens issued from it. A token of another client is left alone (2.1: the server verifies the
 * token was issued to the requester); the caller answers 200 in every case.
 * @returns true when the string was a refresh token of this client.
 */
export async function revokeRefreshTokenOf(
  db: Db,
  sink: RevocationSink,
  token: string,
  client: ApiKey,
): Promise<boolean> {
  const record = await findRefreshToken(db, token);
  if (!record || record.apiKeyId !== client.id) return false;
  await endFamily(db, sink, record, client, keyActor(client.publicKey, null), 'refresh_token.revoked');
  return true;
}

/**
 * Deletes what no longer matters: expired refresh tokens and access-token records, and codes old
 * enough that a replay could no longer revoke anything alive.
 */
export async function pruneGrantRecords(db: Db, refreshTtlMs: number, now = Date.now()): Promise<void> {
  await pruneGrants(db, now);
  await deleteStaleCodes(db, now - refreshTtlMs);
}

/** The tokens one exchange or refresh issues, recorded together in one transaction. */
export interface IssuedGrant {
  familyId: string;
  apiKeyId: number;
  userId: number;
  /** The grant's scope, which every refresh token of the family keeps. */
  scope: string;
  accessToken: { jti: string; expiresAt: number };
  refreshToken: { hash: string; expiresAt: number; parentId: number | null } | null;
}

/** Records an issued access token (by jti) and refresh token of a grant. Call inside a transaction. */
export async function recordIssuedTokens(trx: Db, grant: IssuedGrant, now: number): Promise<void> {
  await insertGrantAccessToken(trx, {
    familyId: grant.familyId,
    jti: grant.accessToken.jti,
    apiKeyId: grant.apiKeyId,
    userId: grant.userId,
    expiresAt: grant.accessToken.expiresAt,
  });
  if (grant.refreshToken) {
    await insertRefreshToken(
      trx,
      {
        tokenHash: grant.refreshToken.hash,
        familyId: grant.familyId,
        parentId: grant.refreshToken.parentId,
        apiKeyId: grant.apiKeyId,
        userId: grant.userId,
        scope: grant.scope,
        expiresAt: grant.refreshToken.expiresAt,
      },
      now,
    );
  }
}

/**
 * Rotates a refresh token (RFC 9700 4.14.2): the presented one is marked used and its child recorded,
 * all in one transaction. Of two concurrent uses of the same token only one wins.
 * @returns false when the token had already been rotated or revoked in the meantime.
 */
export async function rotateRefreshToken(
  db: Db,
  record: RefreshTokenRecord,
  grant: IssuedGrant,
  now = Date.now(),
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    if (!(await markRotated(trx, record.id, now))) return false;
    await recordIssuedTokens(trx, grant, now);
    return true;
  });
}

/**
 * A refresh token presented again after its rotation: either the client or an attacker holds a copy,
 * and the server cannot tell which, so the whole family dies, with its live access tokens
 * (DESIGN.md 3 rule 6, RFC 9700 4.14.2), and the event is audited.
 */
export async function revokeReusedFamily(
  db: Db,
  sink: RevocationSink,
  record: RefreshTokenRecord,
  client: ApiKey,
  by: Actor,
): Promise<void> {
  await endFamily(db, sink, record, client, by, 'refresh_token.reused');
}

/** Revokes a refresh-token family with its live access tokens, and audits why, in one transaction. */
async function endFamily(
  db: Db,
  sink: RevocationSink,
  record: RefreshTokenRecord,
  client: ApiKey,
  by: Actor,
  action: 'refresh_token.revoked' | 'refresh_token.reused',
): Promise<void> {
  const now = Date.now();
  await inTransaction(db, async (trx) => {
    await revokeFamiliesWithTokens(trx, sink, [record.familyId], client.publicKey, now);
    const entry = {
      tenantId: client.tenantId,
      target: `user:${record.userId}`,
      details: { family: record.familyId },
    };
    await audit(trx, by, action, entry, now);
  });
}
