import { pingDatabase, type Storage } from '../storage/database.ts';
import { pingRedis, type RedisClient } from '../storage/redis.ts';

/** How long each dependency has to answer the readiness probe. */
export const READINESS_TIMEOUT_MS = 500;

export type DependencyState = 'up' | 'down';

/** Each dependency the instance needs, and whether it answered: `redis` only when one is configured. */
export interface DependencyChecks {
  database: DependencyState;
  redis?: DependencyState;
}

/** The answer of {@link checkReadiness}: ready when every check is up. */
export interface Readiness {
  ready: boolean;
  checks: DependencyChecks;
  /** The dependencies that are down, by name, in the order of `checks`. */
  down: (keyof DependencyChecks)[];
}

const state = (answered: boolean): DependencyState => (answered ? 'up' : 'down');

/**
 * Whether this instance can serve: the database answers a trivial statement and, when one is
 * configured, Redis answers PING, each within {@link READINESS_TIMEOUT_MS} (both probed at once, so
 * the probe itself answers within that bound). A load balancer stops sending requests to an instance
 * that is not ready, and sends them again once it is; liveness (`/healthz`) is another question.
 */
export async function checkReadiness(
  dependencies: { storage: Storage; redis: RedisClient | null },
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<Readiness> {
  const { storage, redis } = dependencies;
  const [database, cache] = await Promise.all([
    pingDatabase(storage, timeoutMs),
    redis ? pingRedis(redis, timeoutMs) : Promise.resolve(null),
  ]);
  const checks: DependencyChecks = { database: state(database) };
  if (cache !== null) checks.redis = state(cache);
  const down = (Object.keys(checks) as (keyof DependencyChecks)[]).filter((name) => checks[name] === 'down');
  return { ready: down.length === 0, checks, down };
}
