import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.ts';
import { SESSION_TTL_MS } from '../../domain/sessions.ts';

/**
 * Cookies of the console. `Secure` whenever the issuer is https (everywhere but loopback development),
 * and then the `__Host-` prefix, which a browser accepts only from a secure origin, for path `/`,
 * without a Domain: no sibling subdomain can plant or overwrite it. `HttpOnly` keeps them from
 * script, `SameSite=Lax` keeps them off cross-site form posts (DESIGN.md 3 rule 8).
 */
export function isSecure(config: Config): boolean {
  return config.issuer.startsWith('https://');
}

export function cookieName(config: Config, base: 'session' | 'csrf' | 'reveal'): string {
  return `${isSecure(config) ? '__Host-' : ''}gatehouse-${base}`;
}

/** The value of one of our cookies on a request, if present. */
export function readCookie(request: FastifyRequest, base: 'session' | 'csrf' | 'reveal'): string | undefined {
  // Parsed by @fastify/cookie (registered by app.ts).
  return request.cookies[cookieName(request.server.services.config, base)];
}

/** Sets one of our cookies; `maxAgeMs` 0 deletes it. */
export function writeCookie(
  reply: FastifyReply,
  base: 'session' | 'csrf' | 'reveal',
  value: string,
  maxAgeMs = SESSION_TTL_MS,
): void {
  const config = reply.server.services.config;
  reply.setCookie(cookieName(config, base), value, {
    httpOnly: true,
    secure: isSecure(config),
    sameSite: 'lax',
    path: '/',
    maxAge: Math.floor(maxAgeMs / 1000),
  });
}

export function readSessionCookie(request: FastifyRequest): string | undefined {
  return readCookie(request, 'session');
}

export function setSessionCookie(reply: FastifyReply, token: string): void {
  writeCookie(reply, 'session', token);
}

export function clearSessionCookie(reply: FastifyReply): void {
  writeCookie(reply, 'session', '', 0);
}
