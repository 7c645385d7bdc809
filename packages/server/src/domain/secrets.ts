import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A fresh opaque secret: 32 random bytes (256 bits) as base64url, behind a short prefix that
 * tells secret scanners and people what it is (`gac_` code, `grt_` refresh token, `gss_` session).
 */
export function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** 32 bytes in base64url, without padding: the 43 characters after the prefix of {@link randomToken}. */
const TOKEN_BODY = /^[A-Za-z0-9_-]{43}$/;

/** Whether `value` has the shape of a {@link randomToken} with this prefix: anything else is never looked up. */
export function isOpaqueToken(prefix: string, value: string): boolean {
  return value.startsWith(prefix) && TOKEN_BODY.test(value.slice(prefix.length));
}

/**
 * sha256 of a high-entropy secret (a private key, a code, a refresh token, a session token), the only
 * form stored (DESIGN.md 3 rule 1). Such secrets carry 256 bits, so a fast hash is right: a slow KDF
 * would only cost throughput, and an indexed lookup by hash is no timing oracle.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
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
