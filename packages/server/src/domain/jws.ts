import { constants, type KeyObject, type SignKeyObjectInput, sign, verify } from 'node:crypto';

/**
 * Compact JWS (RFC 7515) with node:crypto. jose is the reference, but for the algorithms we issue,
 * node:crypto's sign and verify over cached KeyObjects measured 3-4x faster for signing (~29 vs
 * 80-140 µs) and 1.5-2x for verifying (~72 vs 110-160 µs) than jose's SignJWT/jwtVerify on the same
 * machine, and the token endpoint and the bearer check are the hot paths (DESIGN.md 2). Every check
 * jose would make is made in access-token-verify.ts.
 */

/**
 * Algorithms we sign with. The verifier accepts exactly these: never `none`, never HMAC (RFC 8725 3.1).
 * ES256 signs access tokens (DESIGN.md 1); RS256 signs ID tokens by default, since every OpenID
 * provider must support it (OpenID Connect Core 15.1), and ES256 ones on a client's request.
 */
export const ALGORITHMS = {
  // RFC 7518 3.4: ECDSA signatures are R || S, 32 bytes each for P-256 (not DER).
  ES256: { keyType: 'ec', curve: 'P-256', hash: 'sha256', signatureLength: 64 },
  // RFC 7518 3.3: RSASSA-PKCS1-v1_5 with SHA-256; a 2048-bit key (the minimum RFC 7518 allows) signs
  // 256 bytes, and it is the only size we generate.
  RS256: { keyType: 'rsa', modulusLength: 2048, hash: 'sha256', signatureLength: 256 },
} as const;

export type SigningAlgorithm = keyof typeof ALGORITHMS;

/** Every algorithm we sign with, in the order keys are made: each has its own active key. */
// Object.keys of a literal object typed `as const`: exactly its keys, which are the union's members.
export const SIGNING_ALGORITHMS = Object.keys(ALGORITHMS) as readonly SigningAlgorithm[];

export function isSigningAlgorithm(alg: unknown): alg is SigningAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(ALGORITHMS, alg);
}

/**
 * How node:crypto must sign or verify for `alg`: ECDSA in JOSE's fixed-length R || S encoding, RSA with
 * PKCS #1 v1.5 padding (node's default for RSA keys, spelled out so that nothing else is ever used).
 */
function cryptoKey(alg: SigningAlgorithm, key: KeyObject): SignKeyObjectInput {
  return ALGORITHMS[alg].keyType === 'ec'
    ? { key, dsaEncoding: 'ieee-p1363' }
    : { key, padding: constants.RSA_PKCS1_PADDING };
}

const encode = (value: object) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * Signs `payload` under `header` (which must carry `alg`) into a compact JWS. The signature is
 * computed on libuv's thread pool (crypto.sign with a callback), so the event loop keeps serving
 * requests meanwhile and the token endpoint uses more than one core.
 */
export function signCompact(
  header: { alg: SigningAlgorithm; typ: string; kid: string },
  payload: object,
  key: KeyObject,
): Promise<string> {
  const input = `${encode(header)}.${encode(payload)}`;
  const { hash } = ALGORITHMS[header.alg];
  return new Promise((resolve, reject) => {
    sign(hash, Buffer.from(input, 'ascii'), cryptoKey(header.alg, key), (error, signature) =>
      error ? reject(error) : resolve(`${input}.${signature.toString('base64url')}`),
    );
  });
}

/** A compact JWS split into its parts; nothing in it is trusted yet. */
export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function decodeObject(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? // A parsed JSON object: its keys are strings and its values unknown.
        (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * Splits a compact JWS. Returns null for anything that is not three base64url parts with JSON objects
 * in the first two (Buffer's base64url decoder is lenient, so the alphabet is checked first).
 */
export function parseCompact(token: string): ParsedJws | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  if (!BASE64URL.test(h) || !BASE64URL.test(p) || !BASE64URL.test(s)) return null;
  const header = decodeObject(h);
  const payload = decodeObject(p);
  if (!header || !payload) return null;
  return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
}

/**
 * Checks the signature of a parsed JWS with the key registered for `alg` (the caller pinned both). A key
 * of another type than `alg` wants is refused here too, so that no caller's mix-up can let one
 * algorithm's signature pass for another's.
 */
export function verifySignature(jws: ParsedJws, alg: SigningAlgorithm, key: KeyObject): boolean {
  const { hash, signatureLength, keyType } = ALGORITHMS[alg];
  if (jws.signature.length !== signatureLength || key.asymmetricKeyType !== keyType) return false;
  try {
    return verify(hash, Buffer.from(jws.signingInput, 'ascii'), cryptoKey(alg, key), jws.signature);
  } catch {
    // An input OpenSSL rejects outright is an invalid signature, not a server fault.
    return false;
  }
}

/**
 * {@link verifySignature} on libuv's thread pool (`crypto.verify` with a callback): an ES256 check takes
 * 70-90 µs of CPU, the largest cost of a request that presents a token for the first time, and off the
 * event loop it runs on another core while the loop serves other requests (docs/performance.md, row 3).
 */
export function verifySignatureOffLoop(
  jws: ParsedJws,
  alg: SigningAlgorithm,
  key: KeyObject,
): Promise<boolean> {
  const { hash, signatureLength, keyType } = ALGORITHMS[alg];
  if (jws.signature.length !== signatureLength || key.asymmetricKeyType !== keyType)
    return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify(
        hash,
        Buffer.from(jws.signingInput, 'ascii'),
        cryptoKey(alg, key),
        jws.signature,
        (error, valid) =>
          // An input OpenSSL rejects outright is an invalid signature, not a server fault.
          resolve(!error && valid),
      );
    } catch {
      resolve(false);
    }
  });
}
