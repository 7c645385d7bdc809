import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../../domain/secrets.ts';
import { readCookie, readSessionCookie, writeCookie } from './cookies.ts';

/** The name of the hidden field (and of the header for `DELETE`) that carries the token. */
export const CSRF_FIELD = 'csrf_token';
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

function keyOf(request: FastifyRequest): Buffer {
  // A key of its own, derived from the server secret, so that CSRF tokens can never be confused
  // with any other MAC the server computes.
  return createHmac('sha256', request.server.services.config.secret).update('gatehouse/csrf/v1').digest();
}

function tokenFor(request: FastifyRequest, cookie: string): string {
  // Signed double-submit (OWASP): the token is a MAC of the browser's CSRF cookie and its session
  // cookie. A cross-site page can neither read the cookie nor compute the MAC, and a token taken
  // from another browser or session does not match this one's cookies.
  return createHmac('sha256', keyOf(request))
    .update(`${cookie}.${readSessionCookie(request) ?? ''}`)
    .digest('base64url');
}

/**
 * The token to embed in a form, setting the CSRF cookie first when the browser has none.
 * Call while rendering the page.
 */
export function csrfToken(request: FastifyRequest, reply: FastifyReply): string {
  let cookie = readCookie(request, 'csrf');
  if (!cookie || !COOKIE_VALUE.test(cookie)) {
    cookie = randomBytes(32).toString('base64url');
    writeCookie(reply, 'csrf', cookie);
  }
  return tokenFor(request, cookie);
}

/**
 * True when the submitted token matches this browser's cookies (compared in constant time) and the
 * request, if it names its origin, comes from our own (a second, independent check).
 */
export function checkCsrf(request: FastifyRequest, submitted: unknown): boolean {
  const origin = request.headers.origin;
  // `null` is what a browser sends when it will not say (a no-referrer policy, a privacy setting):
  // unknown, so the token alone decides; a named foreign origin is refused outright.
  if (
    origin !== undefined &&
    origin !== 'null' &&
    origin !== new URL(request.server.services.config.issuer).origin
  )
    return false;
  const cookie = readCookie(request, 'csrf');
  if (typeof submitted !== 'string' || !cookie || !COOKIE_VALUE.test(cookie)) return false;
  return safeEqual(submitted, tokenFor(request, cookie));
}

/** The fields of a posted form; anything that is not an object (a text body, nothing) has none. */
export function formFields(body: unknown): Record<string, unknown> {
  // Sound: a non-null object's own properties are exactly what indexing by a string can read.
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}
