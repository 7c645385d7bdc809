import { createHash } from 'node:crypto';
import {
  ALGORITHMS,
  isSigningAlgorithm,
  parseCompact,
  type SigningAlgorithm,
  signCompact,
  verifySignature,
} from '../domain/jws.ts';
import { isPublicKey } from '../domain/key-format.ts';
import { type UserClaims, userClaims } from '../domain/openid-claims.ts';
import { OAuthError } from '../errors/errors.ts';
import type { ApiKey } from '../model/types.ts';
import type { Services } from '../services.ts';

/**
 * The `typ` of our ID tokens (RFC 7519 5.1). OpenID Connect does not require one; we send it so that an
 * ID token can never pass for an access token (`at+jwt`, RFC 9068 4) nor an access token for an ID token.
 */
export const ID_TOKEN_TYPE = 'JWT';

/** What the ID token of an authorization code says (OpenID Connect Core 2 and 3.1.3.6). */
export interface IdTokenInput {
  client: ApiKey;
  userId: number;
  /** The granted scope: `profile` and `email` release their claims. */
  scope: string;
  /** The authorization request's `nonce`, echoed; null when it sent none. */
  nonce: string | null;
  /** When the user authenticated, epoch ms; null for a code from before OpenID Connect. */
  authTime: number | null;
  /** The session's public identifier; null for a session from before OpenID Connect. */
  sid: string | null;
  /** The access token issued with it, which `at_hash` binds (OpenID Connect Core 3.1.3.8). */
  accessToken: string;
  /** Epoch ms. */
  now: number;
}

/** The claims of our ID tokens, in the order they are written. */
export interface IdTokenClaims extends Omit<UserClaims, 'sub'> {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  auth_time?: number;
  nonce?: string;
  at_hash: string;
  sid?: string;
}

/**
 * OpenID Connect Core 3.1.3.6: base64url of the left half of the hash of the access token's ASCII
 * octets, with the hash of the ID token's `alg` (SHA-256 for both RS256 and ES256).
 */
function accessTokenHash(accessToken: string, alg: SigningAlgorithm): string {
  const digest = createHash(ALGORITHMS[alg].hash).update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/**
 * Issues the ID token of an authorization code (OpenID Connect Core 2, 3.1.3.3), signed with the key of
 * the client's `id_token_signed_response_alg` (RS256 by default, OpenID Connect Core 15.1). It lives as
 * long as the access token, so the signing keys' publication window covers it. `sub` is the user id, as
 * in the access token and userinfo; `aud` is the client's public key (its `client_id`).
 */
export async function issueIdToken(services: Services, input: IdTokenInput): Promise<string> {
  const user = await userClaims(services.db, input.userId, input.scope);
  if (!user) throw new OAuthError('invalid_grant', 'the user no longer exists');
  const alg = input.client.idTokenSignedResponseAlg;
  const signer = services.keyRing.signer(alg);
  const iat = Math.floor(input.now / 1000);
  const { sub, ...released } = user;
  const claims: IdTokenClaims = {
    iss: services.config.issuer,
    sub,
    aud: input.client.publicKey,
    exp: iat + services.config.accessTokenTtl,
    iat,
    ...(input.authTime === null ? {} : { auth_time: Math.floor(input.authTime / 1000) }),
    // OpenID Connect Core 3.1.3.6: the nonce is echoed only when the request had one.
    ...(input.nonce === null ? {} : { nonce: input.nonce }),
    at_hash: accessTokenHash(input.accessToken, alg),
    ...(input.sid === null ? {} : { sid: input.sid }),
    ...released,
  };
  return signCompact({ alg, typ: ID_TOKEN_TYPE, kid: signer.kid }, claims, signer.key);
}

/** What RP-initiated logout learns from a genuine `id_token_hint`. */
export interface IdTokenHintClaims {
  sub: string;
  /** The client the token was issued to (a public key). */
  aud: string;
  sid?: string;
}

/** Outcome of checking an `id_token_hint`; `reason` is safe to show. */
export type IdTokenHintCheck = { ok: true; claims: IdTokenHintClaims } | { ok: false; reason: string };

/** Far more than any ID token we issue (under 1 KB): a longer hint is not parsed at all. */
const MAX_HINT_LENGTH = 8192;

const fail = (reason: string): IdTokenHintCheck => ({ ok: false, reason });

/** RFC 7519 5.1: `JWT`, or its media type; media types compare case-insensitively. */
function isIdTokenType(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'jwt';
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1000;

/**
 * Checks an `id_token_hint` for the end-session endpoint (RP-initiated logout 1.0, section 2): one of
 * our ID tokens, signed by one of our published keys, pinned as for access tokens (DESIGN.md 3 rule 7):
 * the algorithm must be one we sign with and the one of the key named by `kid` (so `none`, HMAC keyed
 * with our RSA public key and an algorithm swap are refused), `typ` must be JWT when present (so an
 * access token is refused), unknown `crit` extensions are refused, then the signature, the issuer, an
 * `aud` that is a client's public key and a `sub`. An expired token is accepted: the specification
 * allows a hint that is no longer valid, since logout often comes long after sign-in.
 */
export async function verifyIdTokenHint(
  services: Pick<Services, 'keyRing' | 'config'>,
  token: string,
): Promise<IdTokenHintCheck> {
  const jws = token.length <= MAX_HINT_LENGTH ? parseCompact(token) : null;
  if (!jws) return fail('the ID token is malformed');
  const { header, payload } = jws;
  if (!isSigningAlgorithm(header.alg)) return fail('the ID token algorithm is not accepted');
  if (header.crit !== undefined) return fail('the ID token uses unsupported critical header parameters');
  if (header.typ !== undefined && !isIdTokenType(header.typ))
    return fail('the token is not an ID token (typ)');
  if (typeof header.kid !== 'string') return fail('the ID token names no signing key');
  const key = await services.keyRing.verificationKey(header.kid);
  if (!key) return fail('the ID token was signed by an unknown key');
  // A kid names one key of one algorithm: a header claiming another algorithm is a confusion attempt.
  if (key.alg !== header.alg) return fail('the ID token algorithm does not match its key');
  if (!verifySignature(jws, key.alg, key.key)) return fail('the ID token signature is invalid');

  if (payload.iss !== services.config.issuer) return fail('the ID token was issued by another issuer');
  const { aud, sub, sid } = payload;
  if (typeof aud !== 'string' || !isPublicKey(aud)) return fail('the token is not an ID token (aud)');
  if (!isText(sub)) return fail('the ID token has no subject');
  if (sid !== undefined && !isText(sid)) return fail('the ID token has an invalid sid');
  return { ok: true, claims: { sub, aud, ...(sid === undefined ? {} : { sid }) } };
}
