import { ProblemError } from '../errors/errors.ts';
import {
  type ApiKeyListing,
  expireCurrentSecrets,
  findKeyByPublicKey,
  insertApiKey,
  insertInvalidation,
  insertSecret,
  listApiKeys,
  markRevoked,
} from '../storage/repositories/api-keys.ts';
import { insertAuditEvent } from '../storage/repositories/audit.ts';
import { findTenant } from '../storage/repositories/tenants.ts';
import { findWorkspace } from '../storage/repositories/workspaces.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import type { Actor } from './audit.ts';
import { generatePrivateKey, generatePublicKey, hashSecret } from './key-format.ts';
import { endGrantsOfKey } from './refresh-tokens.ts';
import type { ApiKey } from './types.ts';
import { checkLabel, checkOrigin, checkRedirectUri } from './validation.ts';

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
  if (!(await findTenant(db, input.tenantId)))
    throw new ProblemError('not_found', `no organization ${input.tenantId}`);
  const workspaceId = input.workspaceId ?? null;
  if (
    workspaceId !== null &&
    !(await findWorkspace(db, { tenantId: input.tenantId, workspaceIds: null }, workspaceId))
  ) {
    throw new ProblemError('not_found', `no workspace ${workspaceId} in organization ${input.tenantId}`);
  }
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
    await insertAuditEvent(
      trx,
      {
        tenantId: input.tenantId,
        ...by,
        action: 'api_key.created',
        target: created.publicKey,
        details: { workspaceId },
      },
      now,
    );
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
    await insertAuditEvent(
      trx,
      { tenantId: key.tenantId, ...by, action: 'api_key.revoked', target: key.publicKey },
      now,
    );
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
    await insertAuditEvent(
      trx,
      {
        tenantId: key.tenantId,
        ...by,
        action: 'api_key.rotated',
        target: key.publicKey,
        details: { graceMs },
      },
      now,
    );
  });
  return { key, privateKey };
}
