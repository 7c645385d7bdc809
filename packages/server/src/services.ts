import { BearerVerifier } from './auth/bearer-verifier.ts';
import { ChangeListener } from './auth/change-listener.ts';
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
import { listenForChanges } from './storage/notifications.ts';
import { closeRedis, connectRedis, type RedisClient, type RedisState } from './storage/redis.ts';
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
  /** Whether Redis answers, its outages and the operations answered from memory meanwhile (`/metrics`). */
  readonly redisState: RedisState | null;
  /** Attempt budgets (sign-in, failed authentication), in Redis when configured, else in memory. */
  readonly counters: Counters;
  /** Sign-in budgets per account and per address. */
  readonly signInThrottle: SignInThrottle;
  /** This instance's caches, told of every change the admin API makes before it answers. */
  readonly caches: LocalCaches;
  /** Requests per key, hour and outcome, counted in memory and written every few seconds. */
  readonly usage: UsageTally;
  /** Changes pushed by PostgreSQL (LISTEN/NOTIFY) and applied to the caches above: lag and counters. */
  readonly changes: ChangeListener;
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
  /** Told when Redis is back after an outage (the server logs it). */
  onRedisUp?: () => void;
  /** Told of a failed background job (the server logs it). */
  onBackgroundError?: (error: unknown) => void;
}

/**
 * Opens the database, applies migrations, builds every service and starts every background job:
 * the key cache's invalidation polls and last-used flushes, the denylist's polls, the key ring's and
 * the CORS origins' reloads, the retention job and the key-usage writes. `close()` stops them all, in reverse order.
 */
export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  const onError = (error: unknown) => options.onBackgroundError?.(error);
  // Stopped in reverse: the storage closes last, after the key cache has flushed into it.
  const stops: Stop[] = [];
  try {
    return await startServices(config, options, stops, onError);
  } catch (error) {
    // A start that fails half way (a wrong secret, a database gone) closes what it opened, so that
    // the process exits instead of idling on an open pool and timers.
    await stopAll(stops, () => {});
    throw error;
  }
}

type Stop = () => void | Promise<void>;

/** Runs every stop, last first, each even when one before it failed; a stop runs once. */
async function stopAll(stops: Stop[], onError: (error: unknown) => void): Promise<void> {
  for (let stop = stops.pop(); stop; stop = stops.pop()) await Promise.resolve().then(stop).catch(onError);
}

async function startServices(
  config: Config,
  options: ServiceOptions,
  stops: Stop[],
  onError: (error: unknown) => void,
): Promise<Services> {
  const storage = options.storage ?? openStorage(config.databaseUrl);
  if (!options.storage) stops.push(() => storage.close());
  await migrate(storage);
  const { db } = storage;

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

  const shared = config.redisUrl
    ? await connectRedis(config.redisUrl, {
        onDown: () => options.onRedisDown?.(),
        onUp: () => options.onRedisUp?.(),
      })
    : null;
  const redis = shared?.client ?? null;
  if (redis) stops.push(() => closeRedis(redis));
  const counters = shared
    ? new RedisCounters(shared.client, `${config.redisPrefix}n:`, shared.state)
    : new MemoryCounters();

  const bearer = new BearerVerifier({ db, issuer: config.issuer, keys, ring: keyRing, denylist });
  // Once every cache exists: a notification may arrive as soon as LISTEN is in effect. Closed first.
  const changes = new ChangeListener({ keys, denylist, keyRing, origins, bearer }, { onError });
  await changes.start((handlers) => listenForChanges(storage, handlers));
  stops.push(() => changes.stop());
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
    redisState: shared?.state ?? null,
    counters,
    signInThrottle: new SignInThrottle(counters),
    caches,
    usage,
    changes,
    // Each step runs even when one before it failed (a flush into an unreachable database): the pools
    // and connections still close. Steps are taken off the list, so a second call does nothing.
    close: () => stopAll(stops, onError),
  };
}
