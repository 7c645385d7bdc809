import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OriginCache } from '../auth/origin-cache.ts';
import type { ApiKey } from '../model/types.ts';

/**
 * Paths whose preflights are answered: the REST API, and the OAuth endpoints a browser client calls
 * (DESIGN.md 1): token, revocation, and userinfo (OpenID Connect Core 5.3, a bearer call like the API's).
 */
const CORS_PATHS =
  /^\/(me|status|rate-limiting-state|v1\/.*|connect\/token|connect\/revocation|connect\/userinfo)$/i;
const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const DEFAULT_ALLOW_HEADERS = 'X-API-Key, Authorization, Content-Type, Accept';
/** Readable by the page: the budget headers of rule 9 and the RFC 6750 challenge. */
const EXPOSE_HEADERS = 'RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, WWW-Authenticate';
const HEADER_LIST = /^[A-Za-z0-9-]+( *, *[A-Za-z0-9-]+)*$/;

function addVary(reply: FastifyReply, value: string): void {
  const current = reply.getHeader('vary');
  if (current === undefined) reply.header('vary', value);
  else if (!String(current).toLowerCase().includes(value.toLowerCase()))
    reply.header('vary', `${current}, ${value}`);
}

function allowOrigin(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-expose-headers', EXPOSE_HEADERS);
}

/** CORS headers on an actual request when `key` allows `origin` (its own key: never another tenant's). */
export function corsForKey(reply: FastifyReply, origin: string | undefined, key: ApiKey): void {
  if (origin === undefined) return;
  addVary(reply, 'Origin');
  if (key.revokedAt === null && key.corsOrigins.includes(origin)) allowOrigin(reply, origin);
}

/**
 * Pre-handler of the OAuth token and revocation endpoints, after `authenticateClient`: CORS headers
 * when the authenticated client's key allows the request's origin (its principal is the client).
 */
export async function corsForClient(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.client) corsForKey(reply, request.headers.origin, request.client);
}

function corsPath(request: FastifyRequest): boolean {
  const path = request.url.split('?', 1)[0] ?? '';
  return CORS_PATHS.test(path);
}

/** Answers a preflight: allowed when some active key of the platform allows the origin. */
function preflight(cache: OriginCache, request: FastifyRequest, reply: FastifyReply, origin: string) {
  addVary(reply, 'Origin');
  if (!cache.allowsAny(origin)) return reply.code(204).send();
  const requested = request.headers['access-control-request-headers'];
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-allow-methods', ALLOW_METHODS);
  reply.header(
    'access-control-allow-headers',
    typeof requested === 'string' && HEADER_LIST.test(requested) ? requested : DEFAULT_ALLOW_HEADERS,
  );
  reply.header('access-control-max-age', '600');
  return reply.code(204).send();
}

/**
 * Preflights (DESIGN.md 1 "Transport"), answered at the root before any route, since no route serves
 * OPTIONS: allowed when any active key allows the origin, for the REST API and the token and
 * revocation endpoints. `/connect/authorize` never answers CORS.
 */
export function answerPreflights(app: FastifyInstance): void {
  const cache = app.services.origins;
  app.addHook('onRequest', async function answerPreflight(request, reply) {
    const origin = request.headers.origin;
    if (
      origin !== undefined &&
      request.method === 'OPTIONS' &&
      request.headers['access-control-request-method'] !== undefined &&
      corsPath(request)
    ) {
      return preflight(cache, request, reply, origin);
    }
  });
}

/**
 * `onSend` hook of the REST API: an actual request gets CORS headers only when the origin is allowed by
 * the key of its own credential, so an origin that tenant B allowed cannot read tenant A's answers.
 */
export async function corsForPrincipal(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const origin = request.headers.origin;
  if (origin === undefined || request.method === 'OPTIONS') return;
  addVary(reply, 'Origin');
  const principal = request.principal;
  if (principal && request.server.services.origins.allows(origin, principal.apiKey.id))
    allowOrigin(reply, origin);
}
