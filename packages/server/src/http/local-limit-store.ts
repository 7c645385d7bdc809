import { createRequire } from 'node:module';
import type { FastifyRateLimitOptions, FastifyRateLimitStore } from '@fastify/rate-limit';

type Result = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Result) => void;

interface LocalStore {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  read(key: string, callback: Callback, timeWindow: number, max: number): void;
  child(routeOptions: object): LocalStore;
}

// The plugin's in-memory store, which it does not export under a name of its own (CommonJS, no types).
const LocalStoreClass = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache: number,
) => LocalStore;

/**
 * @fastify/rate-limit's in-memory store, answering each request with a copy of its counter. The plugin's
 * own store hands every caller the same mutable counter object and the plugin reads it a microtask
 * later, so requests of one burst (released in one tick) all read the burst's final count: 40 requests
 * against a budget of 30 were all refused, not 10 of them.
 */
export function snapshotStore(
  counters: number,
): new (
  options: FastifyRateLimitOptions,
) => FastifyRateLimitStore {
  class SnapshotStore implements FastifyRateLimitStore {
    constructor(
      _options: FastifyRateLimitOptions,
      // Gatehouse uses neither continueExceeding nor exponentialBackoff: fixed windows only.
      private readonly inner: LocalStore = new LocalStoreClass(false, false, counters),
    ) {}

    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      this.inner.incr(key, (error, result) => callback(error, result && { ...result }), timeWindow, max);
    }

    read(key: string, callback: Callback, timeWindow: number, max: number): void {
      this.inner.read(key, (error, result) => callback(error, result && { ...result }), timeWindow, max);
    }

    child(routeOptions: object): FastifyRateLimitStore {
      // Every child keeps the full counter cache (a child's default of 5,000 evicted live budgets).
      return new SnapshotStore({}, this.inner.child({ ...routeOptions, cache: counters }));
    }
  }
  return SnapshotStore;
}
