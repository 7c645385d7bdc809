import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A fresh opaque secret: 32 random bytes (256 bits) as base64url, behind a short prefix that
 * tells secret scanners and people what it is (`gac_` code, `grt_` refresh token, `gss_` session).
 */
export function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/**
 * sha256 of an opaque token, the only form stored (DESIGN.md 3 rule 1). The tokens carry 256 bits
 * of entropy, so a fast hash is right and an indexed lookup by hash is no timing oracle.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A random identifier that is not a secret (refresh-token families). */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** Constant-time equality of two strings (DESIGN.md 3 rule 2); different lengths are unequal. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
