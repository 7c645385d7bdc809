import { Redis } from 'ioredis';
import { ConfigError } from '../config/config.ts';

export interface RedisEvents {
  /** Called once when Redis becomes unreachable, and again only after it came back. */
  onDown?: () => void;
  /** Called when Redis is reachable again after {@link onDown}. */
  onUp?: () => void;
}

/**
 * How long a command may go unanswered: a connection that died without closing (a partition) must
 * not hold requests; the rate limiters and counters fall back to memory instead.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;

/**
 * Whether the shared Redis answers, and what its absence cost: read at scrape time by `/metrics`
 * (plain numbers; the hot path pays an increment), and by `/readyz`.
 */
export class RedisState {
  /** Times Redis became unreachable since this process started. */
  outages = 0;
  /**
   * Rate-limit and attempt-counter operations answered from this instance's memory because Redis
   * was away (or failed to answer one): each is a budget enforced per instance instead of shared.
   */
  fallbacks = 0;
  private down = false;

  constructor(
    private readonly redis: Redis,
    events: RedisEvents = {},
  ) {
    // A lost connection is followed by `reconnecting` (never after a QUIT of ours), and each failed
    // attempt by an error: only the first of an outage counts.
    const lost = () => {
      if (this.down) return;
      this.down = true;
      this.outages++;
      events.onDown?.();
    };
    redis.on('reconnecting', lost);
    redis.on('error', lost);
    redis.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      events.onUp?.();
    });
  }

  /**
   * Whether commands go to Redis now: connected and ready. While false, commands would fail at once
   * (`enableOfflineQueue: false`), so callers use their memory fallback without trying.
   */
  get up(): boolean {
    return this.redis.status === 'ready';
  }

  /** Counts one operation answered from memory instead of Redis. */
  fellBack(): void {
    this.fallbacks++;
  }
}

/** A connection to the shared Redis and what is known of its health. */
export interface SharedRedis {
  readonly client: Redis;
  readonly state: RedisState;
}

/**
 * Connects to Redis, or fails naming the setting. While Redis is away, commands fail at once
 * (`enableOfflineQueue: false`) instead of queueing, and a command on a connection that stopped
 * answering fails after {@link REDIS_COMMAND_TIMEOUT_MS}: the rate limiters and counters then fall
 * back to this instance's memory rather than hold requests. ioredis reconnects by itself (every
 * 2 s at most), and they go back to Redis once it is ready.
 */
export async function connectRedis(url: string, events: RedisEvents = {}): Promise<SharedRedis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  });
  const state = new RedisState(redis, events);
  try {
    await redis.connect();
  } catch {
    redis.disconnect();
    // The URL may carry a password: it is never part of the message.
    throw new ConfigError('GATEHOUSE_REDIS_URL', 'cannot connect to Redis');
  }
  return { client: redis, state };
}

/**
 * Whether Redis answers a PING within `timeoutMs` (the readiness probe). Never throws: a failure or a
 * late answer is `false`.
 */
export async function pingRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const answered = redis.ping().then(
    (reply) => reply === 'PONG',
    () => false,
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a connection, dropping it when a clean QUIT is not possible. */
export async function closeRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}

/** The Redis connection the rate limiters and counters share. */
export type RedisClient = Redis;
