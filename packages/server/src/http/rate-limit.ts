import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LookupGate } from '../auth/key-cache.ts';
import { OAuthError, ProblemError } from '../errors/errors.ts';
import type { Counters } from '../storage/counters.ts';
import { redisFallbackStore, snapshotStore } from './local-limit-store.ts';

/** A caller's budget in the current window, as `GET /rate-limiting-state` shows it. */
export interface Budget {
  limit: number;
  remaining: number;
  /** Epoch ms at which the window ends and the budget is whole again. */
  resetAt: number;
}

/**
 * The budget that refused a request with 429, as `/metrics` labels it: `credential` (GATEHOUSE_RATE_LIMIT,
 * per credential, else per address), `token_address` (GATEHOUSE_TOKEN_RATE_LIMIT on `/connect/*`),
 * `token_client` (an OAuth client's own), `failed_auth` (GATEHOUSE_AUTH_FAILURE_LIMIT). The console's
 * sign-in budgets answer their own 429 pages, unmarked (`sign_in` in the metrics).
 */
export type RateLimitBudget = 'credential' | 'token_address' | 'token_client' | 'failed_auth';

declare module 'fastify' {
  interface FastifyRequest {
    /** Which budget refused this request, when one did; read by `/metrics` (http/metrics.ts). */
    rateLimitedBy: RateLimitBudget | null;
  }
  interface FastifyInstance {
    budgets: {
      /** The caller's REST budget, without spending any of it. */
      read(request: FastifyRequest): Promise<Budget>;
      /** Spends one request of the authenticated OAuth client's budget; see {@link limitClient}. */
      spendClient(request: FastifyRequest): Promise<Budget & { exceeded: boolean }>;
      /** `onRequest` hook of the OAuth endpoints: one budget per client address across all of them. */
      limitAddress: ReturnType<FastifyInstance['rateLimit']>;
      /** A gate that charges a database lookup to the address's failure budget before it is made. */
      failureGate(request: FastifyRequest): FailureGate;
      /**
       * Spends what a request whose credential failed (or that sent none) costs: one request of its
       * address's budget and, unless its gate already charged it, one of its failure budget. Throws a
       * 429 `rate_limited` problem when either is spent.
       */
      chargeFailure(request: FastifyRequest, reply: FastifyReply, gate: FailureGate): Promise<void>;
    };
  }
}

const WINDOW_MS = 60_000;

/**
 * A {@link LookupGate} over the address's failure budget, remembering whether it holds a unit of it.
 * Built for every authenticated request, so it does nothing until a lookup asks (a cached key never does).
 */
export class FailureGate implements LookupGate {
  /** True while a lookup's charge is held; false once refunded or if never admitted. */
  held = false;
  /** When a lookup was refused because the budget was spent: how long until it resets (ms), else 0. */
  refusedForMs = 0;

  constructor(
    private readonly counters: Counters,
    private readonly request: FastifyRequest,
    private readonly limit: number,
  ) {}

  get key(): string {
    return `authfail:${normalizeIP(this.request.ip)}`;
  }

  async admit(): Promise<boolean> {
    const taken = await this.counters.take([{ key: this.key, limit: this.limit }], WINDOW_MS);
    this.held = taken.ok;
    this.refusedForMs = taken.ok ? 0 : taken.retryAfterMs;
    return taken.ok;
  }

  async refund(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await this.counters.refund([this.key]);
  }
}

/**
 * Counters kept per limiter in memory. Passed to every child limiter explicitly: @fastify/rate-limit's
 * children do not inherit the plugin's `cache` and fall back to 5,000, which with more active clients
 * than that evicted live counters (resetting their budgets) and thrashed the LRU on every request.
 */
const COUNTERS = 100_000;
/**
 * The limiter key: the credential already resolved by `authenticate` (API key id; a bearer token's
 * client is its API key too), else the client address. The limiter runs as a pre-handler placed after
 * `authenticate`, so the key costs nothing: the credential is never verified twice.
 */
function credentialKey(request: FastifyRequest): string {
  const principal = request.principal;
  return principal ? `key:${principal.apiKey.id}` : `ip:${normalizeIP(request.ip)}`;
}

/** The scope of the route answers it in its own format (RFC 6749 JSON on the OAuth endpoints). */
function tooMany(after: string): Error {
  return new ProblemError('rate_limited', `too many requests; retry in ${after}`);
}

/**
 * Rate limits (DESIGN.md 3 rule 9): `GATEHOUSE_RATE_LIMIT` requests per minute per credential on every
 * route that does not opt out (`config: { rateLimit: false }`: the infrastructure endpoints, and the
 * OAuth endpoints, which spend `budgets.limitAddress`, `GATEHOUSE_TOKEN_RATE_LIMIT` per client address,
 * instead). Answers 429 with `Retry-After` and `RateLimit-*` headers. Counters live in Redis when
 * `GATEHOUSE_REDIS_URL` is set, so that every instance shares them; otherwise, and while Redis is
 * away, in memory (local-limit-store.ts): the limits always apply. Register before any route.
 */
export async function rateLimits(app: FastifyInstance): Promise<void> {
  const { config, redis, redisState } = app.services;
  app.decorateRequest('rateLimitedBy', null);
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: config.rateLimitPerMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: credentialKey,
    enableDraftSpec: true,
    cache: COUNTERS,
    errorResponseBuilder: (request, context) => {
      request.rateLimitedBy = 'credential';
      return tooMany(context.after);
    },
    store:
      redis && redisState
        ? redisFallbackStore(redis, redisState, `${config.redisPrefix}rl:`, COUNTERS)
        : snapshotStore(COUNTERS),
  });

  const reader = app.createRateLimit();
  const clientLimiter = app.createRateLimit(
    withCounters({
      max: config.rateLimitPerMinute,
      keyGenerator: clientBudgetKey,
    }),
  );
  const failureLimit = config.authFailureLimitPerMinute;
  const { counters } = app.services;
  const addressLimiter = app.createRateLimit();
  app.decorate('budgets', {
    async read(request: FastifyRequest): Promise<Budget> {
      const state = await reader(request, { increment: false });
      if (state.isAllowed) return whole(config.rateLimitPerMinute);
      return { limit: state.max, remaining: state.remaining, resetAt: Date.now() + state.ttl };
    },
    async spendClient(request: FastifyRequest) {
      const state = await clientLimiter(request);
      if (state.isAllowed) return { ...whole(config.rateLimitPerMinute), exceeded: false };
      return {
        limit: state.max,
        remaining: state.remaining,
        resetAt: Date.now() + state.ttl,
        exceeded: state.isExceeded,
      };
    },
    // Checked before the body is even read.
    limitAddress: app.rateLimit({
      cache: COUNTERS,
      max: config.tokenRateLimitPerMinute,
      keyGenerator: (request) => `connect:${normalizeIP(request.ip)}`,
      errorResponseBuilder: (request, context) => {
        request.rateLimitedBy = 'token_address';
        return tooMany(context.after);
      },
    }),
    failureGate: (request: FastifyRequest) => new FailureGate(counters, request, failureLimit),
    async chargeFailure(request: FastifyRequest, reply: FastifyReply, gate: FailureGate): Promise<void> {
      // The address's request budget, as the limiter would have spent it for a request without credential.
      const state = await addressLimiter(request);
      let retryAfterMs = 0;
      if (!state.isAllowed) {
        reply.header('ratelimit-limit', state.max);
        reply.header('ratelimit-remaining', state.remaining);
        reply.header('ratelimit-reset', state.ttlInSeconds);
        if (state.isExceeded) retryAfterMs = state.ttl;
      }
      if (gate.refusedForMs > 0) retryAfterMs = Math.max(retryAfterMs, gate.refusedForMs);
      else if (!gate.held) {
        const taken = await counters.take([{ key: gate.key, limit: failureLimit }], WINDOW_MS);
        if (!taken.ok) retryAfterMs = Math.max(retryAfterMs, taken.retryAfterMs);
      }
      if (retryAfterMs > 0) {
        const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
        request.rateLimitedBy = 'failed_auth';
        throw new ProblemError('rate_limited', `too many failed authentications; retry in ${seconds} s`, {
          'retry-after': String(seconds),
        });
      }
    },
  });
}

/** Adds `cache` (honoured at run time, missing from CreateRateLimitOptions' type) to a limiter's options. */
function withCounters<T extends object>(options: T): T {
  return { ...options, cache: COUNTERS };
}

/**
 * Whose budget a token request spends. A confidential client's own: only it can spend it, with its
 * secret. A public client proves nothing but its client_id, which anyone can send, so its budget is
 * per address as well: no one can spend the budget of every user of a single-page app at once.
 */
function clientBudgetKey(request: FastifyRequest): string {
  const client = request.client;
  if (client?.clientType === 'public') return `client:${client.id}:${normalizeIP(request.ip)}`;
  return `client:${client?.id ?? 0}`;
}

function whole(limit: number): Budget {
  return { limit, remaining: limit, resetAt: Date.now() + WINDOW_MS };
}

/**
 * Pre-handler of the token endpoint, after `authenticateClient`: spends one request of the client's
 * budget (DESIGN.md 3 rule 9: per client as well as per address). Sets the `RateLimit-*` headers;
 * throws a 429 `rate_limited` OAuth error when the budget is spent.
 */
export async function limitClient(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const budget = await request.server.budgets.spendClient(request);
  const reset = Math.max(0, Math.ceil((budget.resetAt - Date.now()) / 1000));
  reply.header('ratelimit-limit', budget.limit);
  reply.header('ratelimit-remaining', budget.remaining);
  reply.header('ratelimit-reset', reset);
  if (budget.exceeded) {
    reply.header('retry-after', reset);
    request.rateLimitedBy = 'token_client';
    throw new OAuthError('rate_limited', `too many requests for this client; retry in ${reset} s`);
  }
}
