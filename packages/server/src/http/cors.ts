import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKey } from '../domain/types.ts';
import { listActiveCorsOrigins } from '../storage/repositories/cors-origins.ts';
import type { Db } from '../storage/transaction.ts';

declare module 'fastify' {
  interface FastifyInstance {
    corsOrigins: OriginCache;
  }
}

/** Paths that answer CORS: the REST API and the two OAuth endpoints a browser client calls (DESIGN.md 1). */
const CORS_PATHS = /^\/(me|status|rate-limiting-state|v1\/.*|connect\/token|connect\/revocation)$/i;
const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const DEFAULT_ALLOW_HEADERS = 'X-API-Key, Authorization, Content-Type, Accept';
/** Readable by the page: the budget headers of rule 9 and the RFC 6750 challenge. */
const EXPOSE_HEADERS = 'RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, WWW-Authenticate';
const HEADER_LIST = /^[A-Za-z0-9-]+( *, *[A-Za-z0-9-]+)*$/;
const REFRESH_MS = 5000;

/**
 * Which active key allows which origin, for the whole platform. Preflights carry no credential, so they
 * can only be judged against every key; the set is read from the database every few seconds and
 * whenever a key is revoked or rotated, never per request.
 */
export class OriginCache {
  private byOrigin = new Map<string, Set<number>>();
  private loading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db) {}

  /** Reloads the set; concurrent calls share one query. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const next = new Map<string, Set<number>>();
    for (const { keyId, origins } of await listActiveCorsOrigins(this.db, Date.now())) {
      for (const origin of origins) {
        const keys = next.get(origin);
        if (keys) keys.add(keyId);
        else next.set(origin, new Set([keyId]));
      }
    }
    this.byOrigin = next;
  }

  /** True when at least one active key allows `origin` (the preflight rule). */
  allowsAny(origin: string): boolean {
    return this.byOrigin.has(origin);
  }

  /** True when key `keyId` allows `origin` (the rule for an actual request). */
  allows(origin: string, keyId: number): boolean {
    return this.byOrigin.get(origin)?.has(keyId) ?? false;
  }

  start(): void {
    // A failed refresh keeps the previous set: the database may be briefly away.
    this.timer = setInterval(() => void this.refresh().catch(() => {}), REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

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

/**
 * Answers an actual request with CORS headers when `key` allows `origin`. The OAuth token and
 * revocation endpoints call it once they have authenticated the client, since their principal is
 * known only inside the handler.
 */
export function corsForKey(reply: FastifyReply, origin: string | undefined, key: ApiKey): void {
  if (origin === undefined) return;
  addVary(reply, 'Origin');
  if (key.revokedAt === null && key.corsOrigins.includes(origin)) allowOrigin(reply, origin);
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
 * CORS (DESIGN.md 1 "Transport"). A preflight is allowed when any active key allows its origin; an
 * actual request gets CORS headers only when the origin is allowed by the key of its own credential,
 * so an origin that tenant B allowed cannot read tenant A's answers. `/connect/authorize` never answers.
 */
export async function cors(app: FastifyInstance): Promise<void> {
  const cache = new OriginCache(app.services.db);
  await cache.refresh();
  cache.start();
  app.decorate('corsOrigins', cache);
  app.services.keys.onInvalidate(() => void cache.refresh().catch(() => {}));
  app.addHook('onClose', async () => cache.stop());

  app.addHook('onRequest', async (request, reply) => {
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

  app.addHook('onSend', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined || request.method === 'OPTIONS' || !corsPath(request)) return;
    addVary(reply, 'Origin');
    const principal = request.principal;
    if (principal && cache.allows(origin, principal.apiKey.id)) allowOrigin(reply, origin);
  });
}
