import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import type { LookupGate } from '../auth/key-cache.ts';
import { OAuthError, ProblemError } from '../errors/errors.ts';
import type { Counters } from '../storage/counters.ts';
import { addressKey } from './address-key.ts';
import { SharedWindows } from './shared-windows.ts';
import { type WindowCounters, type WindowState, WindowTable } from './window-table.ts';

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

/** A hook that spends one request of a budget: callback style, so that counting in memory awaits nothing. */
export type LimitHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

declare module 'fastify' {
  interface FastifyRequest {
    /** Which budget refused this request, when one did; read by `/metrics` (http/metrics.ts). */
    rateLimitedBy: RateLimitBudget | null;
  }
  interface FastifyContextConfig {
    /**
     * `false`: the route spends no request of the per-credential budget (the infrastructure probes;
     * `/connect/*`, which spend their own budgets instead).
     */
    rateLimit?: false;
  }
  interface FastifyInstance {
    budgets: {
      /** The caller's REST budget, without spending any of it. */
      read(request: FastifyRequest): Promise<Budget>;
      /** Spends one request of the authenticated OAuth client's budget; see {@link limitClient}. */
      spendClient(request: FastifyRequest): Promise<Budget & { exceeded: boolean }>;
      /** `onRequest` hook of the OAuth endpoints: one budget per client address across all of them. */
      limitAddress: LimitHook;
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
 * Windows kept per budget in memory: more distinct keys than this in one minute are needed to make
 * one forgotten (and its budget whole again) early.
 */
const COUNTERS = 100_000;

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
    return `authfail:${addressKey(this.request.ip)}`;
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
 * The limiter key: the credential already resolved by `authenticate` (API key id; a bearer token's
 * client is its API key too), else the client address. The limiter runs as a pre-handler placed after
 * `authenticate`, so the key costs nothing: the credential is never verified twice, and no secret is
 * ever a key.
 */
function credentialKey(request: FastifyRequest): string {
  const principal = request.principal;
  return principal ? `key:${principal.apiKey.id}` : `ip:${addressKey(request.ip)}`;
}

/**
 * Whose budget a token request spends. A confidential client's own: only it can spend it, with its
 * secret. A public client proves nothing but its client_id, which anyone can send, so its budget is
 * per address as well: no one can spend the budget of every user of a single-page app at once.
 */
function clientBudgetKey(request: FastifyRequest): string {
  const client = request.client;
  if (client?.clientType === 'public') return `client:${client.id}:${addressKey(request.ip)}`;
  return `client:${client?.id ?? 0}`;
}

/** `RateLimit-Reset` and `Retry-After`: whole seconds left in the window, at least one. */
function secondsLeft(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/** "42 seconds", "1 minute": how the 429's detail says when to retry. */
function spell(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.round(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * Sets the draft RateLimit-* headers of a counted request; when it is over the limit, `Retry-After`
 * too, and returns the 429 to answer. The scope of the route answers it in its own format (RFC 6749
 * JSON on the OAuth endpoints).
 */
function verdict(
  request: FastifyRequest,
  reply: FastifyReply,
  limit: number,
  state: WindowState,
  budget: RateLimitBudget,
): ProblemError | undefined {
  const reset = secondsLeft(state.ttlMs);
  const exceeded = state.count > limit;
  reply.header('ratelimit-limit', limit);
  reply.header('ratelimit-remaining', exceeded ? 0 : limit - state.count);
  reply.header('ratelimit-reset', reset);
  if (!exceeded) return undefined;
  reply.header('retry-after', reset);
  request.rateLimitedBy = budget;
  return new ProblemError('rate_limited', `too many requests; retry in ${spell(reset)}`);
}

/**
 * A hook that counts each request under `keyOf(request)` in `windows` and refuses it past `limit`.
 * In memory it answers at once, without a promise.
 */
function limitHook(
  windows: WindowCounters,
  limit: number,
  keyOf: (request: FastifyRequest) => string,
  budget: RateLimitBudget,
): LimitHook {
  return function limitRequest(request, reply, done) {
    const counted = windows.hit(keyOf(request));
    if ('then' in counted) {
      counted.then((state) => done(verdict(request, reply, limit, state, budget)), done);
      return;
    }
    done(verdict(request, reply, limit, counted, budget));
  };
}

/** Appends `hook` to a route's own pre-handlers, in a new array: a HEAD route shares its GET's options. */
function appendPreHandler(route: RouteOptions, hook: LimitHook): void {
  const own = route.preHandler;
  route.preHandler = own === undefined ? [hook] : [...(Array.isArray(own) ? own : [own]), hook];
}

/**
 * Rate limits (DESIGN.md 3 rule 9): `GATEHOUSE_RATE_LIMIT` requests per minute per credential on every
 * route that does not opt out (`config: { rateLimit: false }`: the infrastructure endpoints, and the
 * OAuth endpoints, which spend `budgets.limitAddress`, `GATEHOUSE_TOKEN_RATE_LIMIT` per client address,
 * instead). Fixed one-minute windows; answers 429 with `Retry-After` and the draft `RateLimit-*`
 * headers. Counters live in Redis when `GATEHOUSE_REDIS_URL` is set, so that every instance shares
 * them (shared-windows.ts); otherwise, and while Redis is away, in memory (window-table.ts): the
 * limits always apply. Register before any route.
 */
export async function rateLimits(app: FastifyInstance): Promise<void> {
  const { config, counters, redis, redisState } = app.services;
  const windows = (): WindowCounters =>
    redis && redisState
      ? new SharedWindows(redis, redisState, `${config.redisPrefix}rl:`, WINDOW_MS, COUNTERS)
      : new WindowTable(WINDOW_MS, COUNTERS);
  // One set of windows per budget: keys made up for one (addresses on /connect/*) never crowd out another's.
  const credentials = windows();
  const addresses = windows();
  const clients = windows();
  const limit = config.rateLimitPerMinute;
  const failureLimit = config.authFailureLimitPerMinute;

  app.decorateRequest('rateLimitedBy', null);
  const limitCredential = limitHook(credentials, limit, credentialKey, 'credential');
  // After the route's own pre-handlers, `authenticate` among them: the credential is known by then.
  app.addHook('onRoute', (route) => {
    if (route.config?.rateLimit !== false) appendPreHandler(route, limitCredential);
  });

  app.decorate('budgets', {
    async read(request: FastifyRequest): Promise<Budget> {
      const state = await credentials.peek(credentialKey(request));
      return { limit, remaining: Math.max(0, limit - state.count), resetAt: Date.now() + state.ttlMs };
    },
    async spendClient(request: FastifyRequest) {
      const state = await clients.hit(clientBudgetKey(request));
      return {
        limit,
        remaining: Math.max(0, limit - state.count),
        resetAt: Date.now() + state.ttlMs,
        exceeded: state.count > limit,
      };
    },
    // Checked before the body is even read.
    limitAddress: limitHook(
      addresses,
      config.tokenRateLimitPerMinute,
      (request) => `connect:${addressKey(request.ip)}`,
      'token_address',
    ),
    failureGate: (request: FastifyRequest) => new FailureGate(counters, request, failureLimit),
    async chargeFailure(request: FastifyRequest, reply: FastifyReply, gate: FailureGate): Promise<void> {
      // The address's request budget, as the limiter would have spent it for a request without credential.
      const state = await credentials.hit(credentialKey(request));
      const reset = secondsLeft(state.ttlMs);
      reply.header('ratelimit-limit', limit);
      reply.header('ratelimit-remaining', Math.max(0, limit - state.count));
      reply.header('ratelimit-reset', reset);
      let retryAfterMs = state.count > limit ? state.ttlMs : 0;
      if (gate.refusedForMs > 0) retryAfterMs = Math.max(retryAfterMs, gate.refusedForMs);
      else if (!gate.held) {
        const taken = await counters.take([{ key: gate.key, limit: failureLimit }], WINDOW_MS);
        if (!taken.ok) retryAfterMs = Math.max(retryAfterMs, taken.retryAfterMs);
      }
      if (retryAfterMs > 0) {
        const seconds = secondsLeft(retryAfterMs);
        request.rateLimitedBy = 'failed_auth';
        throw new ProblemError('rate_limited', `too many failed authentications; retry in ${seconds} s`, {
          'retry-after': String(seconds),
        });
      }
    },
  });
}

/**
 * Pre-handler of the token endpoint, after `authenticateClient`: spends one request of the client's
 * budget (DESIGN.md 3 rule 9: per client as well as per address). Sets the `RateLimit-*` headers;
 * throws a 429 `rate_limited` OAuth error when the budget is spent.
 */
export async function limitClient(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const budget = await request.server.budgets.spendClient(request);
  const reset = secondsLeft(budget.resetAt - Date.now());
  reply.header('ratelimit-limit', budget.limit);
  reply.header('ratelimit-remaining', budget.remaining);
  reply.header('ratelimit-reset', reset);
  if (budget.exceeded) {
    reply.header('retry-after', reset);
    request.rateLimitedBy = 'token_client';
    throw new OAuthError('rate_limited', `too many requests for this client; retry in ${reset} s`);
  }
}
