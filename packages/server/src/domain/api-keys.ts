import { ProblemError } from '../errors/errors.ts';
import type { ApiKey, ApiKeyListing, KeyBySecret, KeyWithSecrets } from '../model/types.ts';
import {
  expireCurrentSecrets,
  findKeyByPublicKey,
  findKeyBySecretHash,
  insertApiKey,
  insertSecret,
  listActiveCorsOrigins,
  listApiKeys,
  markRevoked,
  touchLastUsed,
} from '../storage/repositories/api-keys.ts';
import { insertInvalidation } from '../storage/repositories/invalidations.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, audit } from './audit.ts';
import { generatePrivateKey, generatePublicKey } from './key-format.ts';
import { endGrantsOfKey } from './refresh-tokens.ts';
import { hashSecret } from './secrets.ts';
import { requireTenant, requireWorkspace } from './tenants.ts';
import { checkLabel, checkOrigin, checkRedirectUri } from './validation.ts';

/** Why a credential was refused. Verification returns it rather than throwing (hot path, no stack traces). */
export type KeyFailure = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'rotated_out';

/** What a refused key is told, on the REST API and at the token endpoint alike. */
export const KEY_FAILURE_MESSAGES: Record<KeyFailure, string> = {
  malformed: 'the API key is malformed',
  unknown: 'the API key is not valid',
  revoked: 'the API key is revoked',
  expired: 'the API key has expired',
  rotated_out: 'the API key was rotated and its grace period is over',
};

/** Status of a key at `now`: the single place where revocation and expiry are decided. */
export function keyStatus(key: ApiKey, now: number): KeyFailure | null {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return null;
}

export interface NewApiKeyInput {
  tenantId: number;
  workspaceId?: number | null | undefined;
  label?: string | undefined;
  redirectUris?: string[] | undefined;
  corsOrigins?: string[] | undefined;
  /** Lifetime in milliseconds; none means the key does not expire. */
  expiresInMs?: number | undefined;
}

/** A key with its private key: the only time the private key exists outside the caller's hands. */
export interface IssuedApiKey {
  key: ApiKey;
  privateKey: string;
}

export const MAX_GRACE_MS = 24 * 3_600_000;

function secretRecord(privateKey: string) {
  return { hash: hashSecret(privateKey), last4: privateKey.slice(-4) };
}

/** Creates a key and its audit event in one transaction. */
export async function createApiKey(db: Db, input: NewApiKeyInput, by: Actor): Promise<IssuedApiKey> {
  const label = checkLabel(input.label ?? 'API key');
  const redirectUris = [...new Set((input.redirectUris ?? []).map(checkRedirectUri))];
  const corsOrigins = [...new Set((input.corsOrigins ?? []).map(checkOrigin))];
  if (input.expiresInMs !== undefined && input.expiresInMs <= 0) {
    throw new ProblemError('validation_failed', 'expiry must be in the future');
  }
  await requireTenant(db, input.tenantId);
  const workspaceId = input.workspaceId ?? null;
  if (workspaceId !== null) await requireWorkspace(db, input.tenantId, workspaceId);
  const privateKey = generatePrivateKey();
  const now = Date.now();
  const key = await inTransaction(db, async (trx) => {
    const created = await insertApiKey(
      trx,
      {
        tenantId: input.tenantId,
        workspaceId,
        label,
        publicKey: generatePublicKey(),
        redirectUris,
        corsOrigins,
        expiresAt: input.expiresInMs === undefined ? null : now + input.expiresInMs,
        createdBy: by.actor,
      },
      secretRecord(privateKey),
      now,
    );
    const entry = { tenantId: input.tenantId, target: created.publicKey, details: { workspaceId } };
    await audit(trx, by, 'api_key.created', entry, now);
    return created;
  });
  return { key, privateKey };
}

export function listKeys(db: Db, tenantId: number): Promise<ApiKeyListing[]> {
  return listApiKeys(db, tenantId);
}

/**
 * Finds a key by its public part. With `tenantId`, a key of another tenant is reported
 * as missing, never as forbidden, so that its existence does not leak.
 */
async function keyOf(db: Db, publicKey: string, tenantId?: number) {
  const found = await findKeyByPublicKey(db, publicKey);
  if (!found || (tenantId !== undefined && found.key.tenantId !== tenantId)) {
    throw new ProblemError('not_found', `no API key ${publicKey}`);
  }
  return found.key;
}

/** Revokes a key at once: every instance drops it from its caches through the invalidation feed. */
export async function revokeApiKey(db: Db, publicKey: string, by: Actor, tenantId?: number): Promise<ApiKey> {
  const key = await keyOf(db, publicKey, tenantId);
  const now = Date.now();
  await inTransaction(db, async (trx) => {
    await markRevoked(trx, key.id, now);
    await endGrantsOfKey(trx, key.id, now);
    await insertInvalidation(trx, key.id, now);
    await audit(trx, by, 'api_key.revoked', { tenantId: key.tenantId, target: key.publicKey }, now);
  });
  return { ...key, revokedAt: key.revokedAt ?? now };
}

/** Issues a new private key; the previous ones keep working for `graceMs` (0 to 24 h), then die. */
export async function rotateApiKey(
  db: Db,
  publicKey: string,
  graceMs: number,
  by: Actor,
  tenantId?: number,
): Promise<IssuedApiKey> {
  if (!Number.isFinite(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
    throw new ProblemError('validation_failed', 'grace period must be between 0 and 24h');
  }
  const key = await keyOf(db, publicKey, tenantId);
  if (key.revokedAt !== null) throw new ProblemError('conflict', `API key ${publicKey} is revoked`);
  const privateKey = generatePrivateKey();
  const now = Date.now();
  await inTransaction(db, async (trx) => {
    await expireCurrentSecrets(trx, key.id, now + graceMs);
    await insertSecret(trx, key.id, secretRecord(privateKey), now);
    await insertInvalidation(trx, key.id, now);
    const entry = { tenantId: key.tenantId, target: key.publicKey, details: { graceMs } };
    await audit(trx, by, 'api_key.rotated', entry, now);
  });
  return { key, privateKey };
}

/** The key one of whose private keys hashes to `hash` (the X-API-Key lookup: one indexed probe). */
export function findKeyBySecret(db: Db, hash: string): Promise<KeyBySecret | undefined> {
  return findKeyBySecretHash(db, hash);
}

/** A key by its public part (the OAuth client_id), with the hashes of its private keys. */
export function findClientKey(db: Db, publicKey: string): Promise<KeyWithSecrets | undefined> {
  return findKeyByPublicKey(db, publicKey);
}

/** Records when keys were last used: batched by the key cache, never one write per request. */
export function recordKeyUse(db: Db, lastUsed: Map<number, number>): Promise<void> {
  return touchLastUsed(db, lastUsed);
}

/** The CORS origins of every key that is neither revoked nor expired at `now`. */
export function listLiveCorsOrigins(db: Db, now: number): Promise<{ keyId: number; origins: string[] }[]> {
  return listActiveCorsOrigins(db, now);
}
