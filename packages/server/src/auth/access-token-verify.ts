import { ACCESS_TOKEN_TYPE, type AccessTokenClaims, API_AUDIENCE } from '../domain/access-tokens.ts';
import { isSigningAlgorithm, parseCompact, verifySignatureOffLoop } from '../domain/jws.ts';
import { isPermission } from '../domain/permissions.ts';
import type { KeyRing } from './key-ring.ts';

/** Outcome of checking a token's signature and claims; `reason` fits in an RFC 6750 error_description. */
export type TokenCheck =
  | { ok: true; claims: AccessTokenClaims; kid: string }
  | { ok: false; reason: string; expired?: true };

export interface VerifyOptions {
  issuer: string;
  /** Epoch ms. */
  now: number;
  /** Revocation accepts an expired token (and does nothing with it); the bearer check never does. */
  allowExpired?: boolean;
}

const fail = (reason: string): TokenCheck => ({ ok: false, reason });

/** RFC 9068 4 accepts `at+jwt` and `application/at+jwt`; media types compare case-insensitively. */
function isAccessTokenType(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === ACCESS_TOKEN_TYPE;
}

const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1000;

/** RFC 7519 4.1.3: `aud` is a string or an array of strings; ours must contain the API. */
function hasAudience(aud: unknown): boolean {
  return aud === API_AUDIENCE || (Array.isArray(aud) && aud.includes(API_AUDIENCE));
}

/**
 * Verifies an access token the way jose's jwtVerify would, pinned per RFC 8725 and RFC 9068 4
 * (DESIGN.md 3 rule 7): the algorithm must be one we sign with and the one of the key named by `kid`
 * (so `none` and HMAC keyed with our public key are refused), `typ` must be at+jwt, unknown `crit`
 * extensions are refused (RFC 7515 4.1.11), then the signature, issuer, audience, expiry, not-before,
 * and the presence and types of every claim we rely on.
 */
export async function checkAccessToken(
  ring: KeyRing,
  token: string,
  options: VerifyOptions,
): Promise<TokenCheck> {
  const jws = parseCompact(token);
  if (!jws) return fail('the access token is malformed');
  const { header, payload } = jws;
  if (!isSigningAlgorithm(header.alg)) return fail('the token algorithm is not accepted');
  if (header.crit !== undefined) return fail('the token uses unsupported critical header parameters');
  if (!isAccessTokenType(header.typ)) return fail('the token is not an access token (typ)');
  if (typeof header.kid !== 'string') return fail('the token names no signing key');
  const key = await ring.verificationKey(header.kid);
  if (!key) return fail('the token was signed by an unknown key');
  // A kid names one key of one algorithm: a header claiming another algorithm is a confusion attempt.
  if (key.alg !== header.alg) return fail('the token algorithm does not match its key');
  if (!(await verifySignatureOffLoop(jws, key.alg, key.key))) return fail('the token signature is invalid');

  if (payload.iss !== options.issuer) return fail('the token was issued by another issuer');
  if (!hasAudience(payload.aud)) return fail('the token is not meant for this API (aud)');
  const nowSeconds = Math.floor(options.now / 1000);
  if (!isNumericDate(payload.exp) || !isNumericDate(payload.iat))
    return fail('the token has no valid exp or iat');
  if (payload.nbf !== undefined && (!isNumericDate(payload.nbf) || payload.nbf > nowSeconds)) {
    return fail('the token is not valid yet');
  }
  const { sub, client_id, scope, jti, tenant_id, workspace_id } = payload;
  // Tokens signed before permissions existed carry none: they had today's `write` (capped by the key).
  const permissions = payload.permissions === undefined ? 'write' : payload.permissions;
  if (!isPermission(permissions)) return fail('the token has an invalid permissions claim');
  if (!isText(sub) || !isText(client_id) || !isText(scope) || !isText(jti)) {
    return fail('the token lacks required claims');
  }
  if (!isId(tenant_id) || (workspace_id !== null && !isId(workspace_id))) {
    return fail('the token lacks required claims');
  }
  const claims: AccessTokenClaims = {
    iss: options.issuer,
    aud: API_AUDIENCE,
    sub,
    client_id,
    scope,
    iat: payload.iat,
    exp: payload.exp,
    jti,
    tenant_id,
    workspace_id,
    permissions,
  };
  // RFC 7519 4.1.4: the token must not be accepted on or after its expiry time.
  if (claims.exp <= nowSeconds && !options.allowExpired) {
    return { ok: false, reason: 'the access token has expired', expired: true };
  }
  return { ok: true, claims, kid: key.kid };
}
