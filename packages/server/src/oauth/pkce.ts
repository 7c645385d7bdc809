import { createHash } from 'node:crypto';
import { safeEqual } from '../domain/secrets.ts';

/** An S256 challenge is base64url(sha256(verifier)): exactly 43 characters (RFC 7636 4.2). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 4.1: 43 to 128 characters of the unreserved set. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * Checks the PKCE parameters of an authorization request. Only S256 is accepted: `plain` offers no
 * protection when the request can be read, so it is refused (DESIGN.md 3 rule 5, RFC 9700 2.1.1),
 * and a challenge without a method means `plain` by RFC 7636 4.3, so it is refused too.
 * @returns the challenge (or null without PKCE), or the reason the request is invalid.
 */
export function checkChallenge(
  challenge: string | undefined,
  method: string | undefined,
): { ok: true; challenge: string | null } | { ok: false; reason: string } {
  if (challenge === undefined) {
    if (method !== undefined) return { ok: false, reason: 'code_challenge_method without code_challenge' };
    return { ok: true, challenge: null };
  }
  if (method === undefined)
    return { ok: false, reason: 'code_challenge_method is required and must be S256 (plain is refused)' };
  if (method !== 'S256')
    return { ok: false, reason: 'code_challenge_method must be S256 (plain is refused)' };
  if (!S256_CHALLENGE.test(challenge))
    return { ok: false, reason: 'code_challenge must be 43 base64url characters (S256)' };
  return { ok: true, challenge };
}

/** True when `verifier` hashes to `challenge` (RFC 7636 4.6), compared in constant time. */
export function verifyChallenge(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  return safeEqual(createHash('sha256').update(verifier).digest('base64url'), challenge);
}
