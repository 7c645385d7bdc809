import { invalidField, ProblemError } from '../errors/errors.ts';
import type {
  ApiKey,
  ApiKeyListing,
  ClientType,
  IdTokenAlgorithm,
  KeyBySecret,
  KeyWithSecrets,
  Page,
  PageQuery,
  Permission,
} from '../model/types.ts';
import {
  capGracePeriods,
  expireSecrets,
  findKeyByPublicKey,
  findKeyBySecretHash,
  findKeysByPublicKeys,
  findKeysBySecretHashes,
  insertApiKey,
  insertSecret,
  listActiveCorsOrigins,
  listApiKeys,
  listCurrentSecretIds,
  markRevoked,
  touchLastUsed,
  updateApiKey as writeKeyChanges,
} from '../storage/repositories/api-keys.ts';
import { insertInvalidation } from '../storage/repositories/invalidations.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, actsAsOwner, audit } from './audit.ts';
import { generatePrivateKey, generatePublicKey } from './key-format.ts';
import { type LocalCaches, NO_LOCAL_CACHES } from './local-caches.ts';
import { DEFAULT_PERMISSION } from './permissions.ts';
import { endGrantsOfKey } from './refresh-tokens.ts';
import { hashSecret } from './secrets.ts';
import { requireTenant, requireWorkspace } from './tenants.ts';
import { checkLabel, checkList, checkOrigin, checkRedirectUri } from './validation.ts';

/** Why a credential was refused. Verification returns it rather than throwing (hot path, no stack traces). */
export type KeyFailure = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'rotated_out';

/**
 * The refusals of a credential that proved to be a known key (its secret matched, or its token's
 * signature): they are about the key's state, so they count in its usage; `malformed` and `unknown`
 * name no key and count nowhere.
 */
export type KeyStatusFailure = Exclude<KeyFailure, 'malformed' | 'unknown'>;

/** What a refused key is told, on the REST API and at the token endpoint alike. */
export const KEY_FAILURE_MESSAGES: Record<KeyFailure, string> = {
  malformed: 'the API key is malformed',
  unknown: 'the API key is not valid',
  revoked: 'the API key is revoked',
  expired: 'the API key has expired',
  rotated_out: 'the API key was rotated and its grace period is over',
};

/** Status of a key at `now`: the single place where revocation and expiry are decided. */
export function keyStatus(key: ApiKey, now: number): 'revoked' | 'expired' | null {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return null;
}

/** How a change to a key is made: within which organization, and which caches to tell. */
export interface KeyChangeOptions {
  /** The caller's organization: another's key is reported missing (404), never forbidden. */
  tenantId?: number | undefined;
  caches?: LocalCaches | undefined;
}

export interface NewApiKeyInput {
  tenantId: number;
  workspaceId?: number | null | undefined;
  label?: string | undefined;
  permissions?: Permission | undefined;
  redirectUris?: string[] | undefined;
  corsOrigins?: string[] | undefined;
  /** `public` for a single-page or native app: it gets no private key (DESIGN.md 1). */
  clientType?: ClientType | undefined;
  postLogoutRedirectUris?: string[] | undefined;
  idTokenSignedResponseAlg?: IdTokenAlgorithm | undefined;
  /** Lifetime in milliseconds; with `expiresAt`, an error. None of the two: the key does not expire. */
  expiresInMs?: number | undefined;
  /** Epoch ms. */
  expiresAt?: number | undefined;
}

/** A key with its private key: the only time the private key exists outside the caller's hands. */
export interface IssuedApiKey {
  key: ApiKey;
  privateKey: string;
}

/** A new key: a public client's has no private key at all. */
export interface CreatedApiKey {
  key: ApiKey;
  privateKey: string | null;
}

export const CLIENT_TYPES: readonly ClientType[] = ['confidential', 'public'];
export const ID_TOKEN_ALGORITHMS: readonly IdTokenAlgorithm[] = ['RS256', 'ES256'];

function checkChoice<T extends string>(value: T | undefined, allowed: readonly T[], field: string) {
  if (value !== undefined && !allowed.includes(value))
    throw invalidField(field, `must be one of ${allowed.join(', ')}`);
  return value;
}

export const MAX_GRACE_MS = 24 * 3_600_000;

function secretRecord(privateKey: string) {
  return { hash: hashSecret(privateKey), last4: privateKey.slice(-4) };
}

function expiryOf(input: { expiresInMs?: number | undefined; expiresAt?: number | undefined }, now: number) {
  if (input.expiresInMs !== undefined && input.expiresAt !== undefined)
    throw invalidField('expiresIn', 'give expiresAt or expiresIn, not both');
  if (input.expiresInMs !== undefined) {
    if (!(input.expiresInMs > 0)) throw invalidField('expiresIn', 'expiry must be in the future');
    return now + input.expiresInMs;
  }
  if (input.expiresAt !== undefined && !(input.expiresAt > now))
    throw invalidField('expiresAt', 'expiry must be in the future');
  return input.expiresAt ?? null;
}

/**
 * Creates a key and its audit event in one transaction. Only an owner (or the operator's CLI) creates
 * an `admin` key, and a workspace key cannot be one: an admin key may create only `read` and `write`
 * keys, so that no key can mint a key as strong as itself (no self-perpetuation).
 */
export function createApiKey(
  db: Db,
  input: NewApiKeyInput & { clientType?: 'confidential' | undefined },
  by: Actor,
): Promise<IssuedApiKey>;
export function createApiKey(db: Db, input: NewApiKeyInput, by: Actor): Promise<CreatedApiKey>;
export async function createApiKey(db: Db, input: NewApiKeyInput, by: Actor): Promise<CreatedApiKey> {
  const label = checkLabel(input.label ?? 'API key');
  const redirectUris = checkList(input.redirectUris ?? [], 'redirectUris', checkRedirectUri);
  const corsOrigins = checkList(input.corsOrigins ?? [], 'corsOrigins', checkOrigin);
  const postLogoutRedirectUris = checkList(
    input.postLogoutRedirectUris ?? [],
    'postLogoutRedirectUris',
    checkRedirectUri,
  );
  const clientType = checkChoice(input.clientType, CLIENT_TYPES, 'clientType') ?? 'confidential';
  const idTokenSignedResponseAlg = checkChoice(
    input.idTokenSignedResponseAlg,
    ID_TOKEN_ALGORITHMS,
    'idTokenSignedResponseAlg',
  );
  const permissions = input.permissions ?? DEFAULT_PERMISSION;
  const workspaceId = input.workspaceId ?? null;
  if (permissions === 'admin' && workspaceId !== null)
    throw invalidField('permissions', 'a workspace key cannot be an admin key');
  if (permissions === 'admin' && !actsAsOwner(by))
    throw new ProblemError('forbidden', 'only an owner creates admin keys');
  const now = Date.now();
  const expiresAt = expiryOf(input, now);
  await requireTenant(db, input.tenantId);
  if (workspaceId !== null) await requireWorkspace(db, input.tenantId, workspaceId, 'workspaceId');
  const privateKey = clientType === 'public' ? null : generatePrivateKey();
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
        expiresAt,
        createdBy: by.actor,
        permissions,
        clientType,
        postLogoutRedirectUris,
        ...(idTokenSignedResponseAlg ? { idTokenSignedResponseAlg } : {}),
      },
      privateKey === null ? null : secretRecord(privateKey),
      now,
    );
    const details = { workspaceId, permissions, clientType };
    await audit(
      trx,
      by,
      'api_key.created',
      { tenantId: input.tenantId, target: created.publicKey, details },
      now,
    );
    return created;
  });
  return { key, privateKey };
}

/** Which keys to list, with the paging of every list. */
export interface KeyListQuery extends PageQuery {
  workspaceId?: number | undefined;
  status?: 'active' | 'revoked' | 'expired' | undefined;
}

const KEY_SORTS = ['id', 'label', 'createdAt', 'lastUsedAt'] as const;

/** A page of an organization's keys (never their private keys). */
export function listKeys(db: Db, tenantId: number, query: KeyListQuery): Promise<Page<ApiKeyListing>> {
  const sortBy = KEY_SORTS.find((s) => s.toLowerCase() === query.sortBy?.toLowerCase());
  return listApiKeys(db, {
    tenantId,
    workspaceId: query.workspaceId,
    status: query.status,
    q: query.q,
    sortBy,
    asc: query.asc,
    limit: query.size,
    offset: (query.page - 1) * query.size,
    now: Date.now(),
  });
}

/**
 * Finds a key by its public part. With `tenantId`, a key of another tenant is reported as missing,
 * never as forbidden, so that its existence does not leak.
 */
export async function getKey(db: Db, publicKey: string, tenantId?: number): Promise<ApiKey> {
  const found = await findKeyByPublicKey(db, publicKey);
  if (!found || (tenantId !== undefined && found.key.tenantId !== tenantId)) {
    throw new ProblemError('not_found', `no API key ${publicKey}`);
  }
  return found.key;
}

/** One key of the organization as listed (with the last 4 characters of its private key), or a 404. */
export async function getKeyListing(db: Db, publicKey: string, tenantId: number): Promise<ApiKeyListing> {
  const page = await listApiKeys(db, { tenantId, publicKey, limit: 1, offset: 0, now: Date.now() });
  const [key] = page.items;
  if (!key) throw new ProblemError('not_found', `no API key ${publicKey}`);
  return key;
}

/** No self-perpetuation: a key acting for itself may not rotate, change or revoke itself. */
function refuseSelf(key: ApiKey, by: Actor, what: string): void {
  if (by.authority?.keyId === key.id) throw new ProblemError('forbidden', `a key cannot ${what} itself`);
}

/**
 * Only an owner rotates or changes an `admin` key: its new secret or longer life is worth as much as a
 * new admin key, which only an owner creates. (Revoking one takes power away: admins may.)
 */
function refuseUnlessOwnerFor(key: ApiKey, by: Actor, what: string): void {
  if (key.permissions === 'admin' && !actsAsOwner(by))
    throw new ProblemError('forbidden', `only an owner can ${what} an admin key`);
}

/**
 * Revokes a key at once: this instance's caches drop it before the call returns, every other instance
 * within the invalidation bound. Revoking a revoked key changes nothing and records nothing (idempotent).
 */
export async function revokeApiKey(
  db: Db,
  publicKey: string,
  by: Actor,
  options: KeyChangeOptions = {},
): Promise<ApiKey> {
  const key = await getKey(db, publicKey, options.tenantId);
  refuseSelf(key, by, 'revoke');
  if (key.revokedAt !== null) return key;
  const now = Date.now();
  const revoked = await inTransaction(db, async (trx) => {
    // Of two concurrent revocations only one writes: the other finds the key revoked.
    if (!(await markRevoked(trx, key.id, now))) return false;
    await endGrantsOfKey(trx, key.id, now);
    await insertInvalidation(trx, key.id, now);
    await audit(trx, by, 'api_key.revoked', { tenantId: key.tenantId, target: key.publicKey }, now);
    return true;
  });
  if (revoked) await (options.caches ?? NO_LOCAL_CACHES).keyChanged(key.id);
  return revoked ? { ...key, revokedAt: now } : await getKey(db, publicKey);
}

/**
 * Issues a new private key; the current ones keep working for `graceMs` (0 to 24 h), then die. Of
 * rotations racing for one key, one wins and the others get 409: a key never has two new secrets.
 */
export async function rotateApiKey(
  db: Db,
  publicKey: string,
  graceMs: number,
  by: Actor,
  options: KeyChangeOptions = {},
): Promise<IssuedApiKey> {
  if (!Number.isFinite(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
    throw invalidField('graceSeconds', 'grace period must be between 0 and 24h');
  }
  const key = await getKey(db, publicKey, options.tenantId);
  refuseSelf(key, by, 'rotate');
  refuseUnlessOwnerFor(key, by, 'rotate');
  if (key.revokedAt !== null) throw new ProblemError('conflict', `API key ${publicKey} is revoked`);
  if (key.clientType === 'public')
    throw new ProblemError('conflict', `API key ${publicKey} is a public client: it has no private key`);
  // One rotation of a key at a time in this process (SQLite runs transactions one after the other, so
  // racing rotations would otherwise each see the last one's secret as current and all succeed); across
  // instances, the secrets read here must still be current when the transaction writes.
  if (rotating.has(key.id)) throw concurrentRotation(publicKey);
  rotating.add(key.id);
  try {
    return await rotateFrom(db, key, graceMs, by, options);
  } finally {
    rotating.delete(key.id);
  }
}

/** Keys being rotated by this process. */
const rotating = new Set<number>();

const concurrentRotation = (publicKey: string) =>
  new ProblemError('conflict', `API key ${publicKey} was rotated at the same time; try again`);

async function rotateFrom(
  db: Db,
  key: ApiKey,
  graceMs: number,
  by: Actor,
  options: KeyChangeOptions,
): Promise<IssuedApiKey> {
  const current = await listCurrentSecretIds(db, key.id);
  const privateKey = generatePrivateKey();
  const now = Date.now();
  const graceEndsAt = now + graceMs;
  await inTransaction(db, async (trx) => {
    if ((await expireSecrets(trx, key.id, current, graceEndsAt)) !== current.length)
      throw concurrentRotation(key.publicKey);
    await capGracePeriods(trx, key.id, graceEndsAt);
    await insertSecret(trx, key.id, secretRecord(privateKey), now);
    await insertInvalidation(trx, key.id, now);
    await audit(
      trx,
      by,
      'api_key.rotated',
      { tenantId: key.tenantId, target: key.publicKey, details: { graceMs } },
      now,
    );
  });
  await (options.caches ?? NO_LOCAL_CACHES).keyChanged(key.id);
  return { key, privateKey };
}

/** What may change on a key after its creation: never its scope, permissions or secret. */
export interface KeyUpdate {
  label?: string | undefined;
  redirectUris?: string[] | undefined;
  corsOrigins?: string[] | undefined;
  postLogoutRedirectUris?: string[] | undefined;
  idTokenSignedResponseAlg?: IdTokenAlgorithm | undefined;
  /** Epoch ms; null removes the expiry. */
  expiresAt?: number | null | undefined;
}

/** Changes a key's settings in one transaction with its audit event; this instance applies them at once. */
export async function updateKey(
  db: Db,
  publicKey: string,
  changes: KeyUpdate,
  by: Actor,
  options: KeyChangeOptions = {},
): Promise<ApiKey> {
  const label = changes.label === undefined ? undefined : checkLabel(changes.label);
  const redirectUris =
    changes.redirectUris && checkList(changes.redirectUris, 'redirectUris', checkRedirectUri);
  const corsOrigins = changes.corsOrigins && checkList(changes.corsOrigins, 'corsOrigins', checkOrigin);
  const postLogoutRedirectUris =
    changes.postLogoutRedirectUris &&
    checkList(changes.postLogoutRedirectUris, 'postLogoutRedirectUris', checkRedirectUri);
  const idTokenSignedResponseAlg = checkChoice(
    changes.idTokenSignedResponseAlg,
    ID_TOKEN_ALGORITHMS,
    'idTokenSignedResponseAlg',
  );
  const now = Date.now();
  if (changes.expiresAt != null && !(changes.expiresAt > now))
    throw invalidField('expiresAt', 'expiry must be in the future');
  const key = await getKey(db, publicKey, options.tenantId);
  refuseSelf(key, by, 'change');
  refuseUnlessOwnerFor(key, by, 'change');
  if (key.revokedAt !== null) throw new ProblemError('conflict', `API key ${publicKey} is revoked`);
  const fields = {
    ...(label !== undefined ? { label } : {}),
    ...(redirectUris !== undefined ? { redirectUris } : {}),
    ...(corsOrigins !== undefined ? { corsOrigins } : {}),
    ...(postLogoutRedirectUris !== undefined ? { postLogoutRedirectUris } : {}),
    ...(idTokenSignedResponseAlg !== undefined ? { idTokenSignedResponseAlg } : {}),
    ...(changes.expiresAt !== undefined ? { expiresAt: changes.expiresAt } : {}),
  };
  const updated = await inTransaction(db, async (trx) => {
    const after = await writeKeyChanges(trx, key.id, fields);
    await insertInvalidation(trx, key.id, now);
    const details = { fields: Object.keys(fields) };
    await audit(trx, by, 'api_key.updated', { tenantId: key.tenantId, target: key.publicKey, details }, now);
    return after;
  });
  await (options.caches ?? NO_LOCAL_CACHES).keyChanged(key.id);
  return updated;
}

/** The key one of whose private keys hashes to `hash` (the X-API-Key lookup: one indexed probe). */
export function findKeyBySecret(db: Db, hash: string): Promise<KeyBySecret | undefined> {
  return findKeyBySecretHash(db, hash);
}

/** A key by its public part (the OAuth client_id), with the hashes of its private keys. */
export function findClientKey(db: Db, publicKey: string): Promise<KeyWithSecrets | undefined> {
  return findKeyByPublicKey(db, publicKey);
}

/** {@link findKeyBySecret} for many hashes in one statement, by hash (the key cache's batched refresh). */
export function findKeysBySecrets(db: Db, hashes: readonly string[]): Promise<Map<string, KeyBySecret>> {
  return findKeysBySecretHashes(db, hashes);
}

/** {@link findClientKey} for many clients in one statement, by public key (the key cache's batched refresh). */
export function findClientKeys(db: Db, publicKeys: readonly string[]): Promise<Map<string, KeyWithSecrets>> {
  return findKeysByPublicKeys(db, publicKeys);
}

/** Records when keys were last used: batched by the key cache, never one write per request. */
export function recordKeyUse(db: Db, lastUsed: Map<number, number>): Promise<void> {
  return touchLastUsed(db, lastUsed);
}

/** The CORS origins of every key that is neither revoked nor expired at `now`. */
export function listLiveCorsOrigins(db: Db, now: number): Promise<{ keyId: number; origins: string[] }[]> {
  return listActiveCorsOrigins(db, now);
}
