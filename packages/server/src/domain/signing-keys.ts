import { generateKeyPair, type JsonWebKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint } from 'jose';
import type { SigningKey } from '../model/types.ts';
import {
  insertActiveSigningKey,
  listSigningKeys,
  type NewSigningKey,
  retireActiveSigningKey,
} from '../storage/repositories/signing-keys.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, audit, SYSTEM_ACTOR } from './audit.ts';
import { ALGORITHMS, SIGNING_ALGORITHMS, type SigningAlgorithm } from './jws.ts';
import { seal } from './key-encryption.ts';

/** The algorithm of access tokens (DESIGN.md 1: ES256 by default); ID tokens follow their client's choice. */
export const DEFAULT_ALGORITHM: SigningAlgorithm = 'ES256';

/**
 * How long past `retired_at + token lifetime` a retired key stays published. A retired key may still sign
 * on an instance that has not reloaded its keys yet (they reload every few seconds), and clocks drift.
 */
export const PUBLICATION_MARGIN_MS = 5 * 60_000;

interface JwkMembers {
  kid: string;
  alg: SigningAlgorithm;
  use: 'sig';
}

/** An EC public JWK (RFC 7518 6.2.1), members in the order the JWKS has always shown them. */
export interface EcPublicJwk extends JwkMembers {
  kty: 'EC';
  crv: string;
  x: string;
  y: string;
}

/** An RSA public JWK (RFC 7518 6.3.1): modulus and exponent only. */
export interface RsaPublicJwk extends JwkMembers {
  kty: 'RSA';
  n: string;
  e: string;
}

/** A public JWK as published at the JWKS endpoint. */
export type PublicJwk = EcPublicJwk | RsaPublicJwk;

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * A new key pair for `alg`, generated on the thread pool: an RSA key takes tens of milliseconds, which
 * the event loop of a running server (or of a concurrent start) should not wait for.
 */
function newKeyPair(alg: SigningAlgorithm): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  const spec = ALGORITHMS[alg];
  return spec.keyType === 'ec'
    ? generateKeyPairAsync('ec', { namedCurve: spec.curve })
    : generateKeyPairAsync('rsa', { modulusLength: spec.modulusLength, publicExponent: 0x10001 });
}

/** The public JWK of a key; its kid is the RFC 7638 thumbprint, so a kid names exactly one key. */
async function publicJwkOf(publicKey: KeyObject, alg: SigningAlgorithm): Promise<PublicJwk> {
  const { kty, crv, x, y, n, e } = publicKey.export({ format: 'jwk' });
  if (kty === 'EC' && crv && x && y) {
    const kid = await calculateJwkThumbprint({ kty, crv, x, y });
    return { kty, crv, x, y, kid, alg, use: 'sig' };
  }
  if (kty === 'RSA' && n && e) {
    const kid = await calculateJwkThumbprint({ kty, e, n });
    return { kty, n, e, kid, alg, use: 'sig' };
  }
  throw new Error(`node:crypto exported an incomplete ${kty ?? 'unknown'} public key`);
}

/** Generates a key pair for `alg`, its private part sealed with the server secret (bound to its kid). */
async function generate(secret: string, alg: SigningAlgorithm): Promise<NewSigningKey> {
  const { privateKey, publicKey } = await newKeyPair(alg);
  const publicJwk = await publicJwkOf(publicKey, alg);
  const privateJwk: JsonWebKey = privateKey.export({ format: 'jwk' });
  return {
    kid: publicJwk.kid,
    alg,
    publicJwk: JSON.stringify(publicJwk),
    privateJwkEncrypted: seal(secret, publicJwk.kid, JSON.stringify(privateJwk)),
  };
}

/** Whether an error is a unique-constraint violation (SQLite and PostgreSQL spell it differently). */
function isUniqueViolation(error: unknown): boolean {
  // Both drivers' errors are objects with a string `code`: pg's SQLSTATE, better-sqlite3's extended code.
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Makes the first active key of `alg`, unless a concurrent start just made one (then that one stays). */
async function createFirstKey(db: Db, secret: string, alg: SigningAlgorithm, now: number): Promise<void> {
  const key = await generate(secret, alg);
  try {
    // One transaction per key: on PostgreSQL a unique violation aborts its transaction.
    await inTransaction(db, async (trx) => {
      await insertActiveSigningKey(trx, key, now);
      const entry = { tenantId: null, target: key.kid, details: { alg } };
      await audit(trx, SYSTEM_ACTOR, 'signing_key.created', entry, now);
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
}

/**
 * Makes sure every algorithm we sign with has an active key: on first start both are generated, and on
 * the first start after an upgrade a database with only its ES256 key gets an RS256 one (for ID tokens).
 * Two instances starting at once both try; the unique (`alg`, `active`) index lets one win per
 * algorithm, and the other simply loads the winner's key.
 */
export async function ensureSigningKey(db: Db, secret: string, now = Date.now()): Promise<void> {
  const active = new Set((await listSigningKeys(db)).filter((k) => k.active).map((k) => k.alg));
  for (const alg of SIGNING_ALGORITHMS) {
    if (!active.has(alg)) await createFirstKey(db, secret, alg, now);
  }
}

/** One algorithm's rotation: its new active key and the key it retired (null when it had none). */
export interface RotatedSigningKey {
  alg: SigningAlgorithm;
  kid: string;
  previousKid: string | null;
}

/**
 * Adds a new active key for each of `algorithms` (all of them by default: a rotation after a suspected
 * leak must not leave one behind) and retires the current ones, in one transaction, each rotation
 * audited as `signing_key.rotated` with its algorithm and previous kid. A retired key stays published
 * (so its tokens keep verifying) until every token it may have signed has expired.
 */
export async function rotateSigningKey(
  db: Db,
  secret: string,
  by: Actor,
  algorithms: readonly SigningAlgorithm[] = SIGNING_ALGORITHMS,
  now = Date.now(),
): Promise<RotatedSigningKey[]> {
  // Generated before the transaction opens: no lock is held while an RSA key is made.
  const keys = await Promise.all(
    [...new Set(algorithms)].map(async (alg) => ({ alg, key: await generate(secret, alg) })),
  );
  return inTransaction(db, async (trx) => {
    const rotated: RotatedSigningKey[] = [];
    for (const { alg, key } of keys) {
      const previousKid = (await retireActiveSigningKey(trx, alg, now)) ?? null;
      await insertActiveSigningKey(trx, key, now);
      const entry = { tenantId: null, target: key.kid, details: { alg, previousKid } };
      await audit(trx, by, 'signing_key.rotated', entry, now);
      rotated.push({ alg, kid: key.kid, previousKid });
    }
    return rotated;
  });
}

/**
 * End of a key's publication, epoch ms; null while it is active. Access tokens and ID tokens live the
 * same time (an ID token's `exp` is the access token TTL from its issue), so one window covers the
 * tokens of both algorithms.
 */
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

/** Every signing key, newest first (a handful: one per rotation and algorithm), as the key ring loads them. */
export function loadSigningKeys(db: Db): Promise<SigningKey[]> {
  return listSigningKeys(db);
}

/** Every key of every algorithm with its status, newest first (for `gatehouse signing-keys list`). */
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
