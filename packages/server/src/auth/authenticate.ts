import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../domain/types.ts';
import { ProblemError, safeDescription } from '../errors/errors.ts';
import type { LookupGate } from './key-cache.ts';
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
    ? `${CHALLENGE}, error="invalid_token", error_description="${safeDescription(detail)}"`
    : CHALLENGE;
  return new ProblemError(tokenSent ? 'invalid_token' : 'unauthorized', detail, {
    'www-authenticate': challenge,
  });
}

const KEY_MESSAGES = {
  throttled: 'too many failed authentications from this address',
  malformed: 'the API key is malformed',
  unknown: 'the API key is not valid',
  revoked: 'the API key is revoked',
  expired: 'the API key has expired',
  rotated_out: 'the API key was rotated and its grace period is over',
} as const;

type Resolution = { ok: true; principal: Principal } | { ok: false; error: ProblemError };

async function resolve(request: FastifyRequest, gate: LookupGate): Promise<Resolution> {
  const { services } = request.server;
  const apiKey = request.headers['x-api-key'];
  const authorization = request.headers.authorization;
  if (apiKey !== undefined && authorization !== undefined) {
    return { ok: false, error: refuse('send either X-API-Key or Authorization, not both', true) };
  }
  if (apiKey !== undefined) {
    // Node joins a repeated header with ", ", which then fails the format check: no ambiguity.
    const result = await services.keys.verifySecret(String(apiKey).trim(), gate);
    if (!result.valid) return { ok: false, error: refuse(KEY_MESSAGES[result.code], true) };
    return { ok: true, principal: keyPrincipal(result.key) };
  }
  if (authorization !== undefined) {
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
    if (!match?.[1])
      return { ok: false, error: refuse('the Authorization header must be "Bearer <token>"', true) };
    const result = await services.bearer.verify(match[1]);
    if (!result.valid) return { ok: false, error: refuse(result.reason, true) };
    return { ok: true, principal: result.principal };
  }
  return { ok: false, error: refuse('send an X-API-Key header or an Authorization: Bearer token', false) };
}

/**
 * Pre-handler of every REST route: resolves `X-API-Key` or `Authorization: Bearer` to a principal.
 * Credentials are never read from the query string (DESIGN.md 1). A request whose credential fails,
 * or that sends none, spends its address's request budget and its tighter failure budget (429 once
 * either is spent); an unknown key is looked up in the database only within the failure budget.
 */
export async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const gate = request.server.budgets.failureGate(request);
  const resolution = await resolve(request, gate);
  if (resolution.ok) {
    request.principal = resolution.principal;
    return;
  }
  await request.server.budgets.chargeFailure(request, reply, gate);
  throw resolution.error;
}

/** The principal of an authenticated request; only call after {@link authenticate}. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ProblemError('unauthorized');
  return request.principal;
}
