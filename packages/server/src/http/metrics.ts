import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { safeEqual } from '../domain/secrets.ts';
import { ProblemError } from '../errors/errors.ts';
import type { Services } from '../services.ts';
import { droppedLogLines } from './log-destination.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Counts one answer of the token endpoint by grant and outcome (oauth/token/index.ts); does
     * nothing when metrics are off.
     */
    countTokenAnswer(grant: string, outcome: string): void;
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Invalidation lag: push on PostgreSQL lands in milliseconds, the polling safety net within a second or so. */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus metrics at `/metrics` (off with `GATEHOUSE_METRICS=false`; behind a bearer token with
 * `GATEHOUSE_METRICS_TOKEN`): requests and latency by route and status, authentication outcomes,
 * token issuance by grant and outcome, rate-limit refusals by budget, key-cache efficiency, cache
 * sizes, the database pool, invalidation lag, and the process defaults.
 * Each app has its own registry, so that several apps (tests, workers) never share or clash.
 * Routes are labelled with their declared pattern (`/v1/workspaces/:id`), never the raw URL, and every
 * other label takes values from a fixed set, which keeps the number of series bounded whatever clients send.
 * The hot path pays an increment at most: what can be read at scrape time is read then (`collect`).
 */
export function metrics(app: FastifyInstance): void {
  const { services } = app;
  if (!services.config.metrics) {
    app.decorate('countTokenAnswer', () => {});
    return;
  }
  const register = new Registry();
  collectDefaultMetrics({ register });
  requestMetrics(app, register);
  authMetrics(app, register);
  tokenMetrics(app, register);
  cacheMetrics(services, register);
  poolMetrics(services, register);
  invalidationMetrics(services, register);
  dependencyMetrics(services, register);
  metricsRoute(app, register, services.config.metricsToken);
}

/** Requests and latency by route pattern and status, and 429s by the budget that refused them. */
function requestMetrics(app: FastifyInstance, register: Registry): void {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests answered, by route pattern and status',
    labelNames,
    registers: [register],
  });
  const latency = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route pattern and status',
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [register],
  });
  const limited = new Counter({
    name: 'gatehouse_rate_limited_total',
    help: 'Requests refused with 429, by budget: credential (GATEHOUSE_RATE_LIMIT), token_address (GATEHOUSE_TOKEN_RATE_LIMIT), token_client, failed_auth (GATEHOUSE_AUTH_FAILURE_LIMIT), sign_in',
    labelNames: ['budget'] as const,
    registers: [register],
  });
  // Every budget is shown from the start, at 0, so that a rate() over it never starts from nothing.
  for (const budget of ['credential', 'token_address', 'token_client', 'failed_auth', 'sign_in'])
    limited.inc({ budget }, 0);

  app.addHook('onResponse', async function countResponse(request, reply) {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
    if (reply.statusCode === 429) limited.inc({ budget: limitedBudget(request, route) });
  });
}

/**
 * The budget that refused a 429: as the limiter recorded it (http/rate-limit.ts); else, on a console
 * page, the sign-in budgets (sign-in, password change), which answer their own pages.
 */
function limitedBudget(request: FastifyRequest, route: string): string {
  if (request.rateLimitedBy) return request.rateLimitedBy;
  return route.startsWith('/console') ? 'sign_in' : 'other';
}

/** Credential checks by method and result, and the key cache's hits and misses, read at scrape time. */
function authMetrics(app: FastifyInstance, register: Registry): void {
  const { stats } = app.services.keys;
  const tallies = app.authTallies;
  new Counter({
    name: 'gatehouse_auth_total',
    help: 'Credential checks by method (apiKey, client, bearer, none) and result',
    labelNames: ['method', 'result'] as const,
    registers: [register],
    // Read at scrape time from plain counters kept where the checks happen.
    collect() {
      this.reset();
      const sources: Record<string, Record<string, number>>[] = [stats.results, { ...tallies }];
      for (const source of sources)
        for (const [method, results] of Object.entries(source))
          for (const [result, count] of Object.entries(results)) this.inc({ method, result }, count);
    },
  });
  new Counter({
    name: 'gatehouse_key_cache_lookups_total',
    help: 'API key cache lookups: hit (memory), negative (known unknown, memory) or miss (database)',
    labelNames: ['cache', 'outcome'] as const,
    registers: [register],
    collect() {
      this.reset();
      for (const [cache, outcomes] of Object.entries(stats.lookups))
        for (const [outcome, count] of Object.entries(outcomes)) this.inc({ cache, outcome }, count);
    },
  });
}

/** Token endpoint answers by grant and outcome, counted by the endpoint through `countTokenAnswer`. */
function tokenMetrics(app: FastifyInstance, register: Registry): void {
  const answers = new Counter({
    name: 'gatehouse_token_requests_total',
    help: 'Token endpoint answers by grant_type (unknown: none sent or not read; unsupported: not ours) and outcome (issued, or the RFC 6749 error code)',
    labelNames: ['grant', 'outcome'] as const,
    registers: [register],
  });
  app.decorate('countTokenAnswer', (grant: string, outcome: string) => answers.inc({ grant, outcome }));
}

/**
 * How many entries each in-memory cache holds: growth towards a cache's bound means evictions, and
 * so database reads or signature checks, under load.
 */
function cacheMetrics(services: Services, register: Registry): void {
  new Gauge({
    name: 'gatehouse_cache_entries',
    help: 'Entries held by each in-memory cache: key_secret, key_client, key_unknown (API keys and clients), denylist (revoked tokens), bearer (verified tokens), cors_origins',
    labelNames: ['cache'] as const,
    registers: [register],
    collect() {
      const keys = services.keys.sizes;
      this.set({ cache: 'key_secret' }, keys.secret);
      this.set({ cache: 'key_client' }, keys.client);
      this.set({ cache: 'key_unknown' }, keys.unknown);
      this.set({ cache: 'denylist' }, services.denylist.size);
      this.set({ cache: 'bearer' }, services.bearer.size);
      this.set({ cache: 'cors_origins' }, services.origins.size);
    },
  });
}

/**
 * The PostgreSQL pool (node-postgres' own counts): connections in use and idle, and requests waiting
 * for one, which rises before timeouts do. Not shown on SQLite, which has one connection and no pool.
 */
function poolMetrics(services: Services, register: Registry): void {
  const { pool } = services.storage;
  if (!pool) return;
  new Gauge({
    name: 'gatehouse_db_pool_connections',
    help: 'PostgreSQL pool connections by state (in_use, idle)',
    labelNames: ['state'] as const,
    registers: [register],
    collect() {
      this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
      this.set({ state: 'idle' }, pool.idleCount);
    },
  });
  new Gauge({
    name: 'gatehouse_db_pool_waiting',
    help: 'Queries waiting for a PostgreSQL pool connection',
    registers: [register],
    collect() {
      this.set(pool.waitingCount);
    },
  });
}

/** What announces applied invalidations: `services.changes` (auth/change-listener.ts). */
export interface InvalidationLagSource {
  /** Calls `listener` once per change applied to this instance's caches, with its lag in ms. */
  onApplied(listener: (table: string, lagMs: number) => void): void;
}

/**
 * Feeds `histogram` from `source`: each change pushed by PostgreSQL (NOTIFY) observed with the time
 * from its commit to this instance applying it, by table. Exported so that any source can be wired.
 */
export function observeInvalidationLag(histogram: Histogram<'table'>, source: InvalidationLagSource): void {
  source.onApplied((table, lagMs) => histogram.observe({ table }, lagMs / 1000));
}

/** Invalidation lag (notify to applied) and the change listener's counters; empty on SQLite (polling only). */
function invalidationMetrics(services: Services, register: Registry): void {
  const lag = new Histogram({
    name: 'gatehouse_invalidation_lag_seconds',
    help: 'From a change committed on any instance (NOTIFY) to this instance applying it, by table',
    labelNames: ['table'] as const,
    buckets: LAG_BUCKETS,
    registers: [register],
  });
  const { changes } = services;
  observeInvalidationLag(lag, changes);
  new Counter({
    name: 'gatehouse_invalidation_notifications_total',
    help: 'Change notifications by outcome: received, applied, failed (left to the poll), ignored (not ours); and listener reconnects',
    labelNames: ['outcome'] as const,
    registers: [register],
    collect() {
      this.reset();
      for (const [outcome, count] of Object.entries(changes.stats)) this.inc({ outcome }, count);
    },
  });
  new Gauge({
    name: 'gatehouse_invalidation_listening',
    help: '1 while changes are pushed to this instance (PostgreSQL LISTEN); 0 on SQLite or while reconnecting',
    registers: [register],
    collect() {
      this.set(changes.listening ? 1 : 0);
    },
  });
}

/**
 * What an outage costs while it lasts: Redis up or not, budgets answered from memory instead (the
 * fallback), and the batched writes waiting for the database (kept, then written once it is back),
 * with the usage counts dropped when too many waited.
 */
function dependencyMetrics(services: Services, register: Registry): void {
  const { redisState, usage, keys } = services;
  if (redisState) {
    new Gauge({
      name: 'gatehouse_redis_up',
      help: '1 while Redis answers; 0 while rate limits and attempt budgets fall back to this instance',
      registers: [register],
      collect() {
        this.set(redisState.up ? 1 : 0);
      },
    });
    new Counter({
      name: 'gatehouse_redis_fallbacks_total',
      help: 'Rate-limit and attempt-budget operations answered from memory because Redis was away',
      registers: [register],
      collect() {
        this.reset();
        this.inc(redisState.fallbacks);
      },
    });
  }
  new Gauge({
    name: 'gatehouse_batched_writes_pending',
    help: 'Batched writes waiting for the database: usage counts (key, hour, outcome) and last-used times',
    labelNames: ['kind'] as const,
    registers: [register],
    collect() {
      this.set({ kind: 'usage' }, usage.pendingCount);
      this.set({ kind: 'last_used' }, keys.pendingLastUsed);
    },
  });
  new Counter({
    name: 'gatehouse_usage_counts_dropped_total',
    help: 'Usage counts dropped because too many waited for a database that kept failing',
    registers: [register],
    collect() {
      this.reset();
      this.inc(usage.dropped);
    },
  });
  new Counter({
    name: 'gatehouse_log_lines_dropped_total',
    help: 'Log lines dropped because standard output did not keep up (16 MiB waiting)',
    registers: [register],
    collect() {
      this.reset();
      this.inc(droppedLogLines());
    },
  });
}

const METRICS_CHALLENGE = 'Bearer realm="metrics"';
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Pre-handler of `/metrics` when `GATEHOUSE_METRICS_TOKEN` is set: RFC 6750 2.1 `Authorization: Bearer`,
 * compared in constant time (DESIGN.md 3 rule 2), else 401 with the challenge. The token is never logged.
 */
function requireMetricsToken(token: string) {
  return async function metricsToken(request: FastifyRequest): Promise<void> {
    const sent = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (sent !== undefined && safeEqual(sent, token)) return;
    throw new ProblemError('unauthorized', 'send Authorization: Bearer with the metrics token', {
      'www-authenticate': METRICS_CHALLENGE,
    });
  };
}

/** `GET /metrics`: the registry in the Prometheus text format, never cached. */
function metricsRoute(app: FastifyInstance, register: Registry, token: string | null): void {
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      config: { rateLimit: false },
      ...(token ? { preHandler: requireMetricsToken(token) } : {}),
    },
    async (_request, reply: FastifyReply) => {
      const body = await register.metrics();
      return reply.type(register.contentType).header('cache-control', 'no-store').send(body);
    },
  );
}
