import { Redis } from 'ioredis';
import { ConfigError } from '../config/config.ts';

export interface RedisEvents {
  /** Called once when Redis becomes unreachable, and again only after it came back. */
  onDown?: () => void;
}

/**
 * Connects to Redis, or fails naming the setting. While Redis is away, commands fail at once
 * (`enableOfflineQueue: false`) instead of queueing: the rate limiters and counters then fall back or
 * skip rather than hold requests.
 */
export async function connectRedis(url: string, events: RedisEvents = {}): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  let down = false;
  redis.on('error', () => {
    if (!down) events.onDown?.();
    down = true;
  });
  redis.on('ready', () => {
    down = false;
  });
  try {
    await redis.connect();
  } catch {
    redis.disconnect();
    // The URL may carry a password: it is never part of the message.
    throw new ConfigError('GATEHOUSE_REDIS_URL', 'cannot connect to Redis');
  }
  return redis;
}

/** Closes a connection, dropping it when a clean QUIT is not possible. */
export async function closeRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}

/** The Redis connection the rate limiters and counters share. */
export type RedisClient = Redis;
