import type { Redis } from 'ioredis';
import { type BearerVerifier, noBearer } from './auth/bearer.ts';
import { KeyCache, type KeyCacheOptions } from './auth/key-cache.ts';
import type { Config } from './config/config.ts';
import { startRetentionJob } from './domain/retention.ts';
import { type Counters, MemoryCounters, RedisCounters } from './storage/counters.ts';
import { migrate, openStorage, type Storage } from './storage/database.ts';
import { closeRedis, connectRedis } from './storage/redis.ts';
import type { Db } from './storage/transaction.ts';

/** Everything a request handler needs, built once per process. */
export interface Services {
  readonly config: Config;
  readonly storage: Storage;
  readonly db: Db;
  readonly keys: KeyCache;
  /** Shared Redis when `GATEHOUSE_REDIS_URL` is set: rate limits and attempt counters of every instance. */
  readonly redis: Redis | null;
  /** Attempt budgets (sign-in, failed authentication), in Redis when configured, else in memory. */
  readonly counters: Counters;
  /** Replaced by the authorization server when it registers. */
  bearer: BearerVerifier;
  /** Tasks run when the app closes, in reverse order of registration. */
  readonly onClose: (() => Promise<void>)[];
}

export interface ServiceOptions {
  /** An already open storage (tests); otherwise opened from the configuration. */
  storage?: Storage;
  keyCache?: KeyCacheOptions;
  /** Told once per Redis outage (the server logs it). */
  onRedisDown?: () => void;
  /** Told of a failed background job (the server logs it). */
  onBackgroundError?: (error: unknown) => void;
}

/** Opens the database, applies migrations and starts the caches. */
export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  const storage = options.storage ?? openStorage(config.databaseUrl);
  await migrate(storage);
  const onError = (error: unknown) => options.onBackgroundError?.(error);
  const keys = new KeyCache(storage.db, { onError, ...options.keyCache });
  await keys.start();
  const stopRetention = startRetentionJob(storage.db, config, { onError });
  const redis = config.redisUrl
    ? await connectRedis(config.redisUrl, { onDown: () => options.onRedisDown?.() })
    : null;
  const counters = redis ? new RedisCounters(redis, `${config.redisPrefix}n:`) : new MemoryCounters();
  const services: Services = {
    config,
    storage,
    db: storage.db,
    keys,
    redis,
    counters,
    bearer: noBearer,
    onClose: [],
  };
  services.onClose.push(async () => {
    stopRetention();
    await keys.stop();
    if (redis) await closeRedis(redis);
    if (!options.storage) await storage.close();
  });
  return services;
}
