import { BearerVerifier } from './auth/bearer-verifier.ts';
import { Denylist } from './auth/denylist.ts';
import { KeyCache, type KeyCacheOptions } from './auth/key-cache.ts';
import { KeyRing } from './auth/key-ring.ts';
import { OriginCache } from './auth/origin-cache.ts';
import type { Config } from './config/config.ts';
import { recordUsage, startUsageFlushJob, UsageTally } from './domain/key-usage.ts';
import type { LocalCaches } from './domain/local-caches.ts';
import { startRetentionJob } from './domain/retention.ts';
import { SignInThrottle } from './domain/sign-in-throttle.ts';
import { type Counters, MemoryCounters, RedisCounters } from './storage/counters.ts';
import { migrate, openStorage, type Storage } from './storage/database.ts';
import { closeRedis, connectRedis, type RedisClient } from './storage/redis.ts';
import type { Db } from './storage/transaction.ts';

/** Everything a request handler needs, built once per process, complete, before any route exists. */
export interface Services {
  readonly config: Config;
  readonly storage: Storage;
  readonly db: Db;
  /** API keys and OAuth clients (the X-API-Key hot path), invalidated through the feed. */
  readonly keys: KeyCache;
  /** The keys that sign and verify access tokens. */
  readonly keyRing: KeyRing;
  /** Revoked access tokens, refused on every instance. */
  readonly denylist: Denylist;
  /** `Authorization: Bearer` verification. */
  readonly bearer: BearerVerifier;
  /** Which keys allow which CORS origins. */
  readonly origins: OriginCache;
  /** Shared Redis when `GATEHOUSE_REDIS_URL` is set: rate limits and attempt counters of every instance. */
  readonly redis: RedisClient | null;
  /** Attempt budgets (sign-in, failed authentication), in Redis when configured, else in memory. */
  readonly counters: Counters;
  /** Sign-in budgets per account and per address. */
  readonly signInThrottle: SignInThrottle;
  /** This instance's caches, told of every change the admin API makes before it answers. */
  readonly caches: LocalCaches;
  /** Requests per key, hour and outcome, counted in memory and written every few seconds. */
  readonly usage: UsageTally;
  /** Stops every background job, flushes batched writes and closes connections. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** An already open storage (tests): left open on close; otherwise opened from the configuration. */
  storage?: Storage;
  /** Key cache settings; its `pollMs` also paces the revocation denylist (tests shorten both). */
  keyCache?: KeyCacheOptions;
  /** Interval of the key-usage writes; default `USAGE_FLUSH_MS`. */
  usageFlushMs?: number;
  /** Told once per Redis outage (the server logs it). */
  onRedisDown?: () => void;
  /** Told of a failed background job (the server logs it). */
  onBackgroundError?: (error: unknown) => void;
}

/**
 * Opens the database, applies migrations, builds every service and starts every background job:
 * the key cache's invalidation polls and last-used flushes, the denylist's polls, the key ring's and
 * the CORS origins' reloads, the retention job and the key-usage writes. `close()` stops them all, in reverse order.
 */
export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  const storage = options.storage ?? openStorage(config.databaseUrl);
  await migrate(storage);
  const { db } = storage;
  const onError = (error: unknown) => options.onBackgroundError?.(error);
  // Stopped in reverse: the storage closes last, after the key cache has flushed into it.
  const stops: (() => void | Promise<void>)[] = [];
  if (!options.storage) stops.push(() => storage.close());

  const keys = new KeyCache(db, { onError, ...options.keyCache });
  await keys.start();
  stops.push(() => keys.stop());
  const keyRing = new KeyRing(db, config, { onError });
  await keyRing.start();
  stops.push(() => keyRing.stop());
  const denylist = new Denylist(db, { pollMs: options.keyCache?.pollMs, onError });
  await denylist.start();
  stops.push(() => denylist.stop());
  const origins = new OriginCache(db);
  await origins.start();
  stops.push(() => origins.stop());
  keys.onInvalidate(() => void origins.refresh().catch(onError));
  stops.push(startRetentionJob(db, config, { onError }));
  const usage = new UsageTally((counts) => recordUsage(db, counts));
  stops.push(startUsageFlushJob(usage, { onError, intervalMs: options.usageFlushMs }));

  const redis = config.redisUrl
    ? await connectRedis(config.redisUrl, { onDown: () => options.onRedisDown?.() })
    : null;
  if (redis) stops.push(() => closeRedis(redis));
  const counters = redis ? new RedisCounters(redis, `${config.redisPrefix}n:`) : new MemoryCounters();

  const bearer = new BearerVerifier({ db, issuer: config.issuer, keys, ring: keyRing, denylist });
  const caches: LocalCaches = {
    async keyChanged(keyId) {
      keys.invalidate(keyId);
      await origins.refresh();
    },
    memberChanged: (userId) => bearer.forgetUser(userId),
  };
  return {
    config,
    storage,
    db,
    keys,
    keyRing,
    denylist,
    bearer,
    origins,
    redis,
    counters,
    signInThrottle: new SignInThrottle(counters),
    caches,
    usage,
    async close() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
