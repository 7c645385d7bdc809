import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LookupGate } from '../auth/key-cache.ts';
import { keyPrincipal } from '../auth/principal.ts';
import { KEY_FAILURE_MESSAGES } from '../domain/api-keys.ts';
import { ProblemError, safeDescription } from '../errors/errors.ts';
import type { ApiKey, Principal } from '../model/types.ts';
import { traced } from '../telemetry/tracing.ts';
import { countRefusedKey } from './key-usage.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling the REST API, set by {@link authenticate}. */
    principal: Principal | null;
    /** The OAuth client of a /connect/* request, set by `authenticateClient` (oauth/client-auth.ts). */
    client: ApiKey | null;
  }
  interface FastifyInstance {
    /** Bearer and no-credential outcomes, read by `/metrics` (API keys are counted by the key cache). */
    authTallies: AuthTallies;
  }
}

export interface AuthTallies {
  bearer: { valid: number; invalid: number };
  none: { missing: number };
}

/** Declares what {@link authenticate} sets on requests and counts. Call once, before any route. */
export function authentication(app: FastifyInstance): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('client', null);
  app.decorate('authTallies', { bearer: { valid: 0, invalid: 0 }, none: { missing: 0 } });
}

const CHALLENGE = 'Bearer realm="gatehouse"';

/** RFC 6750 3: a bad token gets `error="invalid_token"` in the challenge; no credential gets the bare challenge. */
export function refuse(detail: string, tokenSent: boolean): ProblemError {
  const challenge = tokenSent
    ? `${CHALLENGE}, error="invalid_token", error_description="${safeDescription(detail)}"`
    : CHALLENGE;
  return new ProblemError(tokenSent ? 'invalid_token' : 'unauthorized', detail, {
    'www-authenticate': challenge,
  });
}

const THROTTLED = 'too many failed authentications from this address';
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

type Resolution = { ok: true; principal: Principal } | { ok: false; error: ProblemError };

async function resolve(request: FastifyRequest, gate: LookupGate): Promise<Resolution> {
  const { services, authTallies } = request.server;
  const apiKey = request.headers['x-api-key'];
  const authorization = request.headers.authorization;
  if (apiKey !== undefined && authorization !== undefined) {
    return { ok: false, error: refuse('send either X-API-Key or Authorization, not both', true) };
  }
  if (apiKey !== undefined) {
    // Node joins a repeated header with ", ", which then fails the format check: no ambiguity.
    const result = await services.keys.verifySecret(String(apiKey).trim(), gate);
    if (result.valid) return { ok: true, principal: keyPrincipal(result.key) };
    if ('keyId' in result) countRefusedKey(request, result.keyId, result.code);
    const message = result.code === 'throttled' ? THROTTLED : KEY_FAILURE_MESSAGES[result.code];
    return { ok: false, error: refuse(message, true) };
  }
  if (authorization !== undefined) {
    const token = BEARER.exec(authorization)?.[1];
    const result = token
      ? await services.bearer.verify(token)
      : { valid: false as const, reason: 'the Authorization header must be "Bearer <token>"' };
    if (result.valid) authTallies.bearer.valid++;
    else if (/^bearer /i.test(authorization)) authTallies.bearer.invalid++;
    if (!result.valid && result.keyRefusal)
      countRefusedKey(request, result.keyRefusal.keyId, result.keyRefusal.code);
    return result.valid
      ? { ok: true, principal: result.principal }
      : { ok: false, error: refuse(result.reason, true) };
  }
  authTallies.none.missing++;
  return { ok: false, error: refuse('send an X-API-Key header or an Authorization: Bearer token', false) };
}

/**
 * Pre-handler of every authenticated REST route: resolves `X-API-Key` or `Authorization: Bearer` to a
 * principal. Credentials are never read from the query string (DESIGN.md 1). A request whose credential
 * fails, or that sends none, spends its address's request budget and its tighter failure budget (429
 * once either is spent); an unknown key is looked up in the database only within the failure budget.
 */
export async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const gate = request.server.budgets.failureGate(request);
  const resolution = await traced('gatehouse.authenticate', {}, async (span) => {
    const resolved = await resolve(request, gate);
    span.setAttribute('gatehouse.auth.outcome', resolved.ok ? 'valid' : resolved.error.code);
    if (resolved.ok) span.setAttribute('gatehouse.auth.method', resolved.principal.authMethod);
    return resolved;
  });
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
