import { createRequire } from 'node:module';
import type { FastifyRateLimitOptions, FastifyRateLimitStore } from '@fastify/rate-limit';
import type { RedisClient, RedisState } from '../storage/redis.ts';

type Result = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Result) => void;

/** What the plugin asks of a store (its stores are CommonJS without types). */
interface PluginStore {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  read(key: string, callback: Callback, timeWindow: number, max: number): void;
  child(routeOptions: object): PluginStore;
}

const load = createRequire(import.meta.url);
// The plugin's own stores, which it does not export under names of their own.
const LocalStoreClass = load('@fastify/rate-limit/store/LocalStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache: number,
) => PluginStore;
const RedisStoreClass = load('@fastify/rate-limit/store/RedisStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: RedisClient,
  nameSpace: string,
) => PluginStore;

/** A store as the plugin takes it (`store` option): a class it constructs with its options. */
type StoreClass = new (options: FastifyRateLimitOptions) => FastifyRateLimitStore & PluginStore;

/**
 * @fastify/rate-limit's in-memory store, answering each request with a copy of its counter. The plugin's
 * own store hands every caller the same mutable counter object and the plugin reads it a microtask
 * later, so requests of one burst (released in one tick) all read the burst's final count: 40 requests
 * against a budget of 30 were all refused, not 10 of them.
 */
export function snapshotStore(counters: number): StoreClass {
  class SnapshotStore implements FastifyRateLimitStore, PluginStore {
    constructor(
      _options: FastifyRateLimitOptions,
      // Gatehouse uses neither continueExceeding nor exponentialBackoff: fixed windows only.
      private readonly inner: PluginStore = new LocalStoreClass(false, false, counters),
    ) {}

    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      this.inner.incr(key, (error, result) => callback(error, result && { ...result }), timeWindow, max);
    }

    read(key: string, callback: Callback, timeWindow: number, max: number): void {
      this.inner.read(key, (error, result) => callback(error, result && { ...result }), timeWindow, max);
    }

    child(routeOptions: object): SnapshotStore {
      // Every child keeps the full counter cache (a child's default of 5,000 evicted live budgets).
      return new SnapshotStore({}, this.inner.child({ ...routeOptions, cache: counters }));
    }
  }
  return SnapshotStore;
}

/**
 * The store of instances that share Redis: Redis while it is ready, this instance's memory (up to
 * `counters` counters, as {@link snapshotStore}) otherwise, so that the limits still apply, per
 * instance, while the shared counters are away (DESIGN.md 3 rule 9), and are shared again once Redis
 * is back. A command that fails (Redis went away mid-request, or stopped answering) is answered from
 * memory too: a request never fails, nor skips its limit, because of Redis. Every answer from memory
 * counts in `state.fallbacks`.
 */
export function redisFallbackStore(
  redis: RedisClient,
  state: RedisState,
  nameSpace: string,
  counters: number,
): StoreClass {
  const MemoryStore = snapshotStore(counters);
  class FallbackStore implements FastifyRateLimitStore, PluginStore {
    constructor(
      _options: FastifyRateLimitOptions,
      private readonly shared: PluginStore = new RedisStoreClass(false, false, redis, nameSpace),
      private readonly local: PluginStore = new MemoryStore({}),
    ) {}

    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      this.route('incr', key, callback, timeWindow, max);
    }

    read(key: string, callback: Callback, timeWindow: number, max: number): void {
      this.route('read', key, callback, timeWindow, max);
    }

    private route(method: 'incr' | 'read', key: string, callback: Callback, timeWindow: number, max: number) {
      if (!state.up) {
        state.fellBack();
        this.local[method](key, callback, timeWindow, max);
        return;
      }
      this.shared[method](
        key,
        (error, result) => {
          if (!error) return callback(null, result);
          state.fellBack();
          this.local[method](key, callback, timeWindow, max);
        },
        timeWindow,
        max,
      );
    }

    child(routeOptions: object): FallbackStore {
      return new FallbackStore({}, this.shared.child(routeOptions), this.local.child(routeOptions));
    }
  }
  return FallbackStore;
}
