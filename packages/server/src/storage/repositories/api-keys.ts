import { type Kysely, type Selectable, sql } from 'kysely';
import type {
  ApiKey,
  ApiKeyListing,
  IdTokenAlgorithm,
  KeyBySecret,
  KeyWithSecrets,
  Page,
} from '../../model/types.ts';
import type { Database } from '../schema.ts';
import { likeLower } from './like.ts';

type KeyRow = Selectable<Database['api_keys']>;

function toApiKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    workspaceId: row.workspace_id,
    label: row.label,
    publicKey: row.public_key,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    corsOrigins: JSON.parse(row.cors_origins) as string[],
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    permissions: row.permissions,
    clientType: row.client_type,
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    idTokenSignedResponseAlg: row.id_token_signed_response_alg,
  };
}

const KEY_COLUMNS = [
  'k.id',
  'k.tenant_id',
  'k.workspace_id',
  'k.label',
  'k.public_key',
  'k.redirect_uris',
  'k.cors_origins',
  'k.expires_at',
  'k.created_by',
  'k.created_at',
  'k.last_used_at',
  'k.revoked_at',
  'k.permissions',
  'k.client_type',
  'k.post_logout_redirect_uris',
  'k.id_token_signed_response_alg',
] as const;

export type NewApiKey = Pick<
  ApiKey,
  | 'tenantId'
  | 'workspaceId'
  | 'label'
  | 'publicKey'
  | 'redirectUris'
  | 'corsOrigins'
  | 'expiresAt'
  | 'createdBy'
> &
  Partial<Pick<ApiKey, 'permissions' | 'clientType' | 'postLogoutRedirectUris' | 'idTokenSignedResponseAlg'>>;

export async function insertApiKey(
  db: Kysely<Database>,
  key: NewApiKey,
  /** The first private key; null for a public client, which has none. */
  secret: { hash: string; last4: string } | null,
  now: number,
): Promise<ApiKey> {
  const row = await db
    .insertInto('api_keys')
    .values({
      tenant_id: key.tenantId,
      workspace_id: key.workspaceId,
      label: key.label,
      public_key: key.publicKey,
      redirect_uris: JSON.stringify(key.redirectUris),
      cors_origins: JSON.stringify(key.corsOrigins),
      expires_at: key.expiresAt,
      created_by: key.createdBy,
      created_at: now,
      ...(key.permissions ? { permissions: key.permissions } : {}),
      ...(key.clientType ? { client_type: key.clientType } : {}),
      ...(key.postLogoutRedirectUris
        ? { post_logout_redirect_uris: JSON.stringify(key.postLogoutRedirectUris) }
        : {}),
      ...(key.idTokenSignedResponseAlg ? { id_token_signed_response_alg: key.idTokenSignedResponseAlg } : {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (secret) await insertSecret(db, row.id, secret, now);
  return toApiKey(row);
}

export async function insertSecret(
  db: Kysely<Database>,
  apiKeyId: number,
  secret: { hash: string; last4: string },
  now: number,
): Promise<void> {
  await db
    .insertInto('api_key_secrets')
    .values({ api_key_id: apiKeyId, secret_hash: secret.hash, last4: secret.last4, created_at: now })
    .execute();
}

/** The X-API-Key lookup: one indexed probe on the unique secret hash. */
export async function findKeyBySecretHash(
  db: Kysely<Database>,
  hash: string,
): Promise<KeyBySecret | undefined> {
  const row = await db
    .selectFrom('api_key_secrets as s')
    .innerJoin('api_keys as k', 'k.id', 's.api_key_id')
    .select([...KEY_COLUMNS, 's.expires_at as secret_expires_at'])
    .where('s.secret_hash', '=', hash)
    .executeTakeFirst();
  return row && { key: toApiKey(row), secretExpiresAt: row.secret_expires_at };
}

/**
 * A key by its public part (the OAuth client_id) with the hashes of its private keys, in one statement:
 * a row per private key (none for a public client, whose single row has null secret columns). The key
 * cache reads it at every miss, so a client's first request after its entry expired costs one round trip.
 */
export async function findKeyByPublicKey(
  db: Kysely<Database>,
  publicKey: string,
): Promise<KeyWithSecrets | undefined> {
  const rows = await db
    .selectFrom('api_keys as k')
    .leftJoin('api_key_secrets as s', 's.api_key_id', 'k.id')
    .select([...KEY_COLUMNS, 's.secret_hash', 's.expires_at as secret_expires_at'])
    .where('k.public_key', '=', publicKey)
    .execute();
  const first = rows[0];
  if (!first) return undefined;
  const secrets: KeyWithSecrets['secrets'] = [];
  for (const row of rows) {
    if (row.secret_hash !== null) secrets.push({ hash: row.secret_hash, expiresAt: row.secret_expires_at });
  }
  return { key: toApiKey(first), secrets };
}

/**
 * The keys of many secret hashes in one statement (the key cache's batched background refresh), by hash;
 * a hash that no longer exists is absent.
 */
export async function findKeysBySecretHashes(
  db: Kysely<Database>,
  hashes: readonly string[],
): Promise<Map<string, KeyBySecret>> {
  const found = new Map<string, KeyBySecret>();
  if (hashes.length === 0) return found;
  const rows = await db
    .selectFrom('api_key_secrets as s')
    .innerJoin('api_keys as k', 'k.id', 's.api_key_id')
    .select([...KEY_COLUMNS, 's.secret_hash', 's.expires_at as secret_expires_at'])
    .where('s.secret_hash', 'in', hashes)
    .execute();
  for (const row of rows)
    found.set(row.secret_hash, { key: toApiKey(row), secretExpiresAt: row.secret_expires_at });
  return found;
}

/** {@link findKeyByPublicKey} for many clients in one statement, by public key; an unknown one is absent. */
export async function findKeysByPublicKeys(
  db: Kysely<Database>,
  publicKeys: readonly string[],
): Promise<Map<string, KeyWithSecrets>> {
  const found = new Map<string, KeyWithSecrets>();
  if (publicKeys.length === 0) return found;
  const rows = await db
    .selectFrom('api_keys as k')
    .leftJoin('api_key_secrets as s', 's.api_key_id', 'k.id')
    .select([...KEY_COLUMNS, 's.secret_hash', 's.expires_at as secret_expires_at'])
    .where('k.public_key', 'in', publicKeys)
    .execute();
  for (const row of rows) {
    let client = found.get(row.public_key);
    if (!client) {
      client = { key: toApiKey(row), secrets: [] };
      found.set(row.public_key, client);
    }
    if (row.secret_hash !== null)
      client.secrets.push({ hash: row.secret_hash, expiresAt: row.secret_expires_at });
  }
  return found;
}

export async function findKeyById(db: Kysely<Database>, id: number): Promise<ApiKey | undefined> {
  const row = await db
    .selectFrom('api_keys as k')
    .select(KEY_COLUMNS)
    .where('k.id', '=', id)
    .executeTakeFirst();
  return row && toApiKey(row);
}

/** Which keys of a tenant to list, and how (the paging of every list of the API). */
export interface KeyQuery {
  tenantId: number;
  publicKey?: string | undefined;
  workspaceId?: number | undefined;
  /** Active: neither revoked nor expired at `now`; expired: past its expiry, not revoked. */
  status?: 'active' | 'revoked' | 'expired' | undefined;
  /** Case-insensitive search in the label. */
  q?: string | undefined;
  sortBy?: 'id' | 'label' | 'createdAt' | 'lastUsedAt' | undefined;
  asc?: boolean | undefined;
  limit: number;
  offset: number;
  now: number;
}

const KEY_SORT = {
  id: sql.ref('k.id'),
  label: sql`lower(${sql.ref('k.label')})`,
  createdAt: sql.ref('k.created_at'),
  lastUsedAt: sql.ref('k.last_used_at'),
};

function keysMatching(db: Kysely<Database>, query: KeyQuery) {
  let select = db.selectFrom('api_keys as k').where('k.tenant_id', '=', query.tenantId);
  if (query.publicKey !== undefined) select = select.where('k.public_key', '=', query.publicKey);
  if (query.workspaceId !== undefined) select = select.where('k.workspace_id', '=', query.workspaceId);
  if (query.status === 'revoked') select = select.where('k.revoked_at', 'is not', null);
  if (query.status === 'active') {
    select = select
      .where('k.revoked_at', 'is', null)
      .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', query.now)]));
  }
  if (query.status === 'expired') {
    select = select.where('k.revoked_at', 'is', null).where('k.expires_at', '<=', query.now);
  }
  if (query.q) select = select.where(likeLower('k.label', query.q));
  return select;
}

/** A page of a tenant's keys, with the last 4 characters of each one's current private key. */
export async function listApiKeys(db: Kysely<Database>, query: KeyQuery): Promise<Page<ApiKeyListing>> {
  const direction = query.asc === false ? 'desc' : 'asc';
  const [rows, total] = await Promise.all([
    keysMatching(db, query)
      .select([
        ...KEY_COLUMNS,
        (eb) =>
          eb
            .selectFrom('api_key_secrets as s')
            .select('s.last4')
            .whereRef('s.api_key_id', '=', 'k.id')
            .where('s.expires_at', 'is', null)
            .orderBy('s.id', 'desc')
            .limit(1)
            .as('last4'),
      ])
      .orderBy(KEY_SORT[query.sortBy ?? 'id'], direction)
      .orderBy('k.id', direction)
      .limit(query.limit)
      .offset(query.offset)
      .execute(),
    keysMatching(db, query)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return {
    items: rows.map((row) => ({ ...toApiKey(row), last4: row.last4 ?? null })),
    total: Number(total.n),
  };
}

/** The settings of a key that may change after its creation (never its scope, permissions or secret). */
export interface KeyChanges {
  label?: string;
  redirectUris?: string[];
  corsOrigins?: string[];
  postLogoutRedirectUris?: string[];
  idTokenSignedResponseAlg?: IdTokenAlgorithm;
  expiresAt?: number | null;
}

/** Applies `changes` to a key; returns the key as it is now. */
export async function updateApiKey(db: Kysely<Database>, id: number, changes: KeyChanges): Promise<ApiKey> {
  const set = {
    ...(changes.label !== undefined ? { label: changes.label } : {}),
    ...(changes.redirectUris !== undefined ? { redirect_uris: JSON.stringify(changes.redirectUris) } : {}),
    ...(changes.corsOrigins !== undefined ? { cors_origins: JSON.stringify(changes.corsOrigins) } : {}),
    ...(changes.postLogoutRedirectUris !== undefined
      ? { post_logout_redirect_uris: JSON.stringify(changes.postLogoutRedirectUris) }
      : {}),
    ...(changes.idTokenSignedResponseAlg !== undefined
      ? { id_token_signed_response_alg: changes.idTokenSignedResponseAlg }
      : {}),
    ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt } : {}),
  };
  if (Object.keys(set).length) await db.updateTable('api_keys').set(set).where('id', '=', id).execute();
  const key = await findKeyById(db, id);
  if (!key) throw new Error(`API key ${id} vanished during its update`);
  return key;
}

/** Ids of a key's current private keys (not in a rotation's grace period). */
export async function listCurrentSecretIds(db: Kysely<Database>, apiKeyId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('api_key_secrets')
    .select('id')
    .where('api_key_id', '=', apiKeyId)
    .where('expires_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

/** Revokes a key, once: true when this call revoked it, false when it already was. */
export async function markRevoked(db: Kysely<Database>, id: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Starts the grace period of the given current private keys, if they still are current: returns how
 * many were. A rotation names the secrets it read, so that of two rotations racing for one key only
 * the first finds them current (the other is refused), whatever the isolation level.
 */
export async function expireSecrets(
  db: Kysely<Database>,
  apiKeyId: number,
  secretIds: readonly number[],
  graceEndsAt: number,
): Promise<number> {
  if (secretIds.length === 0) return 0;
  const result = await db
    .updateTable('api_key_secrets')
    .set({ expires_at: graceEndsAt })
    .where('api_key_id', '=', apiKeyId)
    .where('id', 'in', [...secretIds])
    .where('expires_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Shortens the grace periods still running past `graceEndsAt`: a new rotation never extends an old secret. */
export async function capGracePeriods(
  db: Kysely<Database>,
  apiKeyId: number,
  graceEndsAt: number,
): Promise<void> {
  await db
    .updateTable('api_key_secrets')
    .set({ expires_at: graceEndsAt })
    .where('api_key_id', '=', apiKeyId)
    .where('expires_at', '>', graceEndsAt)
    .execute();
}

/**
 * Writes a batch of last-used times (batched by the key cache, not per request): one UPDATE per
 * 500 keys. One statement per key held SQLite's synchronous driver, and so the event loop, for
 * about a second per 10,000 keys (the bench's row 5).
 */
export async function touchLastUsed(db: Kysely<Database>, uses: Map<number, number>): Promise<void> {
  const entries = [...uses];
  for (let i = 0; i < entries.length; i += 500) {
    const chunk = entries.slice(i, i + 500);
    // The cast: PostgreSQL would type a CASE of bare parameters as text.
    const at = sql<number>`case id ${sql.join(
      chunk.map(([id, time]) => sql`when ${id} then cast(${time} as bigint)`),
      sql` `,
    )} end`;
    await db
      .updateTable('api_keys')
      .set({ last_used_at: at })
      .where(
        'id',
        'in',
        chunk.map(([id]) => id),
      )
      .execute();
  }
}

/** Keys that allow at least one CORS origin and are neither revoked nor expired at `now`. */
export async function listActiveCorsOrigins(
  db: Kysely<Database>,
  now: number,
): Promise<{ keyId: number; origins: string[] }[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'cors_origins'])
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .where('cors_origins', '!=', '[]')
    .execute();
  return rows.map((row) => ({ keyId: row.id, origins: JSON.parse(row.cors_origins) as string[] }));
}
