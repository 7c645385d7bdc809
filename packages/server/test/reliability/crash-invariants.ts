import type { Db } from '../../src/storage/transaction.ts';

/**
 * What the server acknowledged (2xx) before a kill, by what the database must then hold: hashes and
 * identifiers only, never a secret.
 */
export interface Acknowledged {
  /** `POST /v1/api-keys` answered 201: the key, and the sha256 of its private key. */
  created: { publicKey: string; secretHash: string }[];
  /** `POST /v1/api-keys/{publicKey}/rotate` answered 200: the key, and the sha256 of its new private key. */
  rotated: { publicKey: string; secretHash: string }[];
  /** A code exchanged (200): the code's sha256, the access token's `jti`, the refresh token's sha256. */
  exchanged: { codeHash: string; jti: string; refreshHash: string }[];
  /** A refresh token rotated (200): the presented one's sha256, the new access token's `jti`, the new refresh token's sha256. */
  refreshed: { presentedHash: string; jti: string; refreshHash: string }[];
}

export const nothingAcknowledged = (): Acknowledged => ({
  created: [],
  rotated: [],
  exchanged: [],
  refreshed: [],
});

/** Everything the invariants read: a few thousand rows at most, compared in memory on both dialects. */
async function snapshot(db: Db) {
  const [keys, secrets, events, codes, refreshTokens, accessTokens] = await Promise.all([
    db.selectFrom('api_keys').select(['id', 'public_key', 'client_type']).execute(),
    db.selectFrom('api_key_secrets').select(['id', 'api_key_id', 'secret_hash', 'expires_at']).execute(),
    db
      .selectFrom('audit_events')
      .select(['action', 'target'])
      .where('action', 'in', ['api_key.created', 'api_key.rotated'])
      .execute(),
    db.selectFrom('authorization_codes').select(['id', 'code_hash', 'consumed_at', 'family_id']).execute(),
    db
      .selectFrom('refresh_tokens')
      .select(['id', 'token_hash', 'family_id', 'parent_id', 'rotated_at', 'revoked_at', 'expires_at'])
      .execute(),
    db.selectFrom('grant_access_tokens').select(['family_id', 'jti']).execute(),
  ]);
  return { keys, secrets, events, codes, refreshTokens, accessTokens };
}

function countBy<T>(
  rows: readonly T[],
  keyOf: (row: T) => string | number | null,
): Map<string | number, number> {
  const counts = new Map<string | number, number>();
  for (const row of rows) {
    const key = keyOf(row);
    if (key !== null) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * The rules a crash must never break (DESIGN.md 2: what matters is written in one transaction), as
 * a list of violations (empty when the database is consistent):
 * - every key has exactly one creation audit event, and every creation event its key;
 * - a confidential key has exactly one current secret (`expires_at` null: the newest of its rotations,
 *   the others are rotated out or in their grace period), a public key none; and one secret per
 *   creation plus one per rotation audit event;
 * - a consumed code names its grant's family, which no other code names, and whose first refresh
 *   token it issued exactly once; an unconsumed code issued nothing;
 * - every token of a grant comes from a consumed code, and each issuance wrote its access token and
 *   its refresh token together;
 * - a refresh token has at most one successor, exactly one once rotated, in its own family; a family
 *   has at most one live token (neither rotated, revoked nor expired).
 */
export async function inconsistencies(db: Db, now = Date.now()): Promise<string[]> {
  const { keys, secrets, events, codes, refreshTokens, accessTokens } = await snapshot(db);
  const found: string[] = [];

  const creations = countBy(
    events.filter((e) => e.action === 'api_key.created'),
    (e) => e.target,
  );
  const rotations = countBy(
    events.filter((e) => e.action === 'api_key.rotated'),
    (e) => e.target,
  );
  const secretsOf = countBy(secrets, (s) => s.api_key_id);
  const currentOf = countBy(
    secrets.filter((s) => s.expires_at === null),
    (s) => s.api_key_id,
  );
  const publicKeys = new Set(keys.map((k) => k.public_key));
  for (const key of keys) {
    const name = key.public_key;
    if (creations.get(name) !== 1)
      found.push(`key ${name} has ${creations.get(name) ?? 0} creation audit events`);
    const current = currentOf.get(key.id) ?? 0;
    if (key.client_type === 'confidential' && current !== 1)
      found.push(`key ${name} has ${current} current (unexpired, not rotated out) secrets`);
    if (key.client_type === 'public' && (secretsOf.get(key.id) ?? 0) !== 0)
      found.push(`public key ${name} has a secret`);
    const expected = key.client_type === 'confidential' ? 1 + (rotations.get(name) ?? 0) : 0;
    if ((secretsOf.get(key.id) ?? 0) !== expected)
      found.push(`key ${name} has ${secretsOf.get(key.id) ?? 0} secrets for ${expected - 1} rotation events`);
  }
  for (const target of [...creations.keys(), ...rotations.keys()])
    if (!publicKeys.has(String(target))) found.push(`audit event about a missing key ${target}`);

  const codesOfFamily = countBy(codes, (c) => c.family_id);
  const rootsOf = countBy(
    refreshTokens.filter((t) => t.parent_id === null),
    (t) => t.family_id,
  );
  for (const code of codes) {
    if (code.consumed_at === null && code.family_id !== null)
      found.push(`unconsumed code ${code.id} names family ${code.family_id}`);
    if (code.consumed_at !== null && code.family_id === null)
      found.push(`consumed code ${code.id} names no family`);
    if (code.family_id === null) continue;
    if (codesOfFamily.get(code.family_id) !== 1)
      found.push(`family ${code.family_id} was issued by ${codesOfFamily.get(code.family_id)} codes`);
    if (rootsOf.get(code.family_id) !== 1)
      found.push(`code ${code.id} issued ${rootsOf.get(code.family_id) ?? 0} first refresh tokens`);
  }

  const accessOf = countBy(accessTokens, (t) => t.family_id);
  const refreshOf = countBy(refreshTokens, (t) => t.family_id);
  for (const family of new Set([...accessOf.keys(), ...refreshOf.keys()])) {
    if (!codesOfFamily.has(family)) found.push(`family ${family} has tokens but no code issued it`);
    if (accessOf.get(family) !== refreshOf.get(family))
      found.push(
        `family ${family} has ${accessOf.get(family) ?? 0} access tokens for ${refreshOf.get(family) ?? 0} refresh tokens`,
      );
  }

  const byId = new Map(refreshTokens.map((t) => [t.id, t]));
  const childrenOf = countBy(refreshTokens, (t) => t.parent_id);
  for (const token of refreshTokens) {
    const children = childrenOf.get(token.id) ?? 0;
    if (children > 1) found.push(`refresh token ${token.id} has ${children} successors`);
    if (token.rotated_at !== null && children !== 1)
      found.push(`refresh token ${token.id} was rotated but has ${children} successors`);
    if (token.rotated_at === null && children !== 0)
      found.push(`refresh token ${token.id} has a successor but was not rotated`);
    if (token.parent_id !== null && byId.get(token.parent_id)?.family_id !== token.family_id)
      found.push(`refresh token ${token.id} descends from a token outside its family`);
  }
  const liveOf = countBy(
    refreshTokens.filter((t) => t.rotated_at === null && t.revoked_at === null && t.expires_at > now),
    (t) => t.family_id,
  );
  for (const [family, live] of liveOf)
    if (live > 1) found.push(`family ${family} has ${live} live refresh tokens`);
  return found;
}

/** Which acknowledged writes the database lacks (empty when every one is there), by index and identifiers. */
export async function missingAcknowledged(db: Db, acked: Acknowledged): Promise<string[]> {
  const { keys, secrets, codes, refreshTokens, accessTokens } = await snapshot(db);
  const missing: string[] = [];
  const keyIdOf = new Map(keys.map((k) => [k.public_key, k.id]));
  const secretOwner = new Map(secrets.map((s) => [s.secret_hash, s.api_key_id]));
  const hasSecret = (publicKey: string, secretHash: string) =>
    keyIdOf.has(publicKey) && secretOwner.get(secretHash) === keyIdOf.get(publicKey);
  acked.created.forEach(({ publicKey, secretHash }, i) => {
    if (!keyIdOf.has(publicKey)) missing.push(`created key #${i} ${publicKey} is missing`);
    else if (!hasSecret(publicKey, secretHash))
      missing.push(`created key #${i} ${publicKey} lacks its secret`);
  });
  acked.rotated.forEach(({ publicKey, secretHash }, i) => {
    if (!hasSecret(publicKey, secretHash))
      missing.push(`rotation #${i} of ${publicKey} lacks its new secret`);
  });

  const codeByHash = new Map(codes.map((c) => [c.code_hash, c]));
  const tokenByHash = new Map(refreshTokens.map((t) => [t.token_hash, t]));
  const familyOfJti = new Map(accessTokens.map((t) => [t.jti, t.family_id]));
  acked.exchanged.forEach(({ codeHash, jti, refreshHash }, i) => {
    const code = codeByHash.get(codeHash);
    const refresh = tokenByHash.get(refreshHash);
    if (!code?.consumed_at || code.family_id === null)
      missing.push(`exchange #${i}: its code is not consumed`);
    else if (familyOfJti.get(jti) !== code.family_id)
      missing.push(`exchange #${i}: its access token is missing`);
    else if (refresh?.family_id !== code.family_id || refresh.parent_id !== null)
      missing.push(`exchange #${i}: its refresh token is missing`);
  });
  acked.refreshed.forEach(({ presentedHash, jti, refreshHash }, i) => {
    const presented = tokenByHash.get(presentedHash);
    const refresh = tokenByHash.get(refreshHash);
    if (!presented?.rotated_at) missing.push(`refresh #${i}: the presented token is not rotated`);
    else if (refresh?.parent_id !== presented.id)
      missing.push(`refresh #${i}: its new refresh token is missing`);
    else if (familyOfJti.get(jti) !== presented.family_id)
      missing.push(`refresh #${i}: its access token is missing`);
  });
  return missing;
}
