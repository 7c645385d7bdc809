import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../domain/types.ts';
import { ProblemError } from '../errors/errors.ts';
import { keyPrincipal } from './principal.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const CHALLENGE = 'Bearer realm="gatehouse"';

/** RFC 6750 3: a bad token gets `error="invalid_token"` in the challenge; no credential gets the bare challenge. */
function refuse(detail: string, tokenSent: boolean): ProblemError {
  const challenge = tokenSent
    ? `${CHALLENGE}, error="invalid_token", error_description="${detail}"`
    : CHALLENGE;
  return new ProblemError(tokenSent ? 'invalid_token' : 'unauthorized', detail, {
    'www-authenticate': challenge,
  });
}

const KEY_MESSAGES = {
  malformed: 'the API key is malformed',
  unknown: 'the API key is not valid',
  revoked: 'the API key is revoked',
  expired: 'the API key has expired',
  rotated_out: 'the API key was rotated and its grace period is over',
} as const;

/**
 * Pre-handler of every REST route: resolves `X-API-Key` or `Authorization: Bearer` to a principal.
 * Credentials are never read from the query string (DESIGN.md 1).
 */
export async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const { services } = request.server;
  const apiKey = request.headers['x-api-key'];
  const authorization = request.headers.authorization;
  if (apiKey !== undefined && authorization !== undefined) {
    throw refuse('send either X-API-Key or Authorization, not both', true);
  }
  if (apiKey !== undefined) {
    // Node joins a repeated header with ", ", which then fails the format check: no ambiguity.
    const result = await services.keys.verifySecret(String(apiKey).trim());
    if (!result.valid) throw refuse(KEY_MESSAGES[result.code], true);
    request.principal = keyPrincipal(result.key);
    return;
  }
  if (authorization !== undefined) {
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
    if (!match?.[1]) throw refuse('the Authorization header must be "Bearer <token>"', true);
    const result = await services.bearer.verify(match[1]);
    if (!result.valid) throw refuse(result.reason, true);
    request.principal = result.principal;
    return;
  }
  throw refuse('send an X-API-Key header or an Authorization: Bearer token', false);
}

/** The principal of an authenticated request; only call after {@link authenticate}. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ProblemError('unauthorized');
  return request.principal;
}
