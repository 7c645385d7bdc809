import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { SigningKey } from '../model/types.ts';
import {
  insertActiveSigningKey,
  listSigningKeys,
  retireActiveSigningKey,
} from '../storage/repositories/signing-keys.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, audit, SYSTEM_ACTOR } from './audit.ts';
import { ALGORITHMS, type SigningAlgorithm } from './jws.ts';
import { seal } from './key-encryption.ts';

/** The algorithm of new keys (DESIGN.md 1: ES256 by default). */
export const DEFAULT_ALGORITHM: SigningAlgorithm = 'ES256';

/**
 * How long past `retired_at + token lifetime` a retired key stays published. A retired key may still sign
 * on an instance that has not reloaded its keys yet (they reload every few seconds), and clocks drift.
 */
export const PUBLICATION_MARGIN_MS = 5 * 60_000;

/** A public JWK as published at the JWKS endpoint. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
  alg: SigningAlgorithm;
  use: 'sig';
}

/** Generates a key pair; the kid is the RFC 7638 thumbprint of the public key. */
async function generate(secret: string, alg: SigningAlgorithm) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: ALGORITHMS[alg].curve });
  const { crv, x, y } = publicKey.export({ format: 'jwk' });
  if (!crv || !x || !y) throw new Error('node:crypto exported an incomplete EC public key');
  const kid = await calculateJwkThumbprint({ kty: 'EC', crv, x, y });
  const publicJwk: PublicJwk = { kty: 'EC', crv, x, y, kid, alg, use: 'sig' };
  const privateJwk: JsonWebKey = privateKey.export({ format: 'jwk' });
  return {
    kid,
    alg,
    publicJwk: JSON.stringify(publicJwk),
    privateJwkEncrypted: seal(secret, kid, JSON.stringify(privateJwk)),
  };
}

/** Whether an error is a unique-constraint violation (SQLite and PostgreSQL spell it differently). */
function isUniqueViolation(error: unknown): boolean {
  // Both drivers' errors are objects with a string `code`: pg's SQLSTATE, better-sqlite3's extended code.
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Generates the first signing key when there is no active one (first start). Two instances starting at
 * once both try; the unique `active` column lets one win, and the other simply loads the winner's key.
 */
export async function ensureSigningKey(db: Db, secret: string, now = Date.now()): Promise<void> {
  if ((await listSigningKeys(db)).some((k) => k.active)) return;
  const key = await generate(secret, DEFAULT_ALGORITHM);
  try {
    await inTransaction(db, async (trx) => {
      await insertActiveSigningKey(trx, key, now);
      await audit(trx, SYSTEM_ACTOR, 'signing_key.created', { tenantId: null, target: key.kid }, now);
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
}

/**
 * Adds a new active key and retires the current one, which stays published (so its tokens keep
 * verifying) until every token it may have signed has expired.
 */
export async function rotateSigningKey(
  db: Db,
  secret: string,
  by: Actor,
  now = Date.now(),
): Promise<{ kid: string; previousKid: string | null }> {
  const key = await generate(secret, DEFAULT_ALGORITHM);
  const previousKid = await inTransaction(db, async (trx) => {
    const previous = (await retireActiveSigningKey(trx, now)) ?? null;
    await insertActiveSigningKey(trx, key, now);
    const entry = { tenantId: null, target: key.kid, details: { previousKid: previous } };
    await audit(trx, by, 'signing_key.rotated', entry, now);
    return previous;
  });
  return { kid: key.kid, previousKid };
}

/** End of a key's publication, epoch ms; null while it is active. */
export function publishedUntil(key: SigningKey, accessTokenTtlSeconds: number): number | null {
  return key.retiredAt === null ? null : key.retiredAt + accessTokenTtlSeconds * 1000 + PUBLICATION_MARGIN_MS;
}

export type SigningKeyStatus = 'active' | 'published' | 'expired';

/** Active: signs. Published: retired, still verifies its tokens. Expired: no token of it can be valid. */
export function signingKeyStatus(key: SigningKey, accessTokenTtlSeconds: number, now: number) {
  const until = publishedUntil(key, accessTokenTtlSeconds);
  const status: SigningKeyStatus = key.active
    ? 'active'
    : until !== null && until > now
      ? 'published'
      : 'expired';
  return { status, publishedUntil: until };
}

/** Every signing key, newest first (a handful: one per rotation), as the key ring loads them. */
export function loadSigningKeys(db: Db): Promise<SigningKey[]> {
  return listSigningKeys(db);
}

/** Every key with its status, newest first (for `gatehouse signing-keys list`). */
export async function describeSigningKeys(db: Db, accessTokenTtlSeconds: number, now = Date.now()) {
  const keys = await listSigningKeys(db);
  return keys.map((key) => ({
    kid: key.kid,
    alg: key.alg,
    createdAt: key.createdAt,
    retiredAt: key.retiredAt,
    ...signingKeyStatus(key, accessTokenTtlSeconds, now),
  }));
}
