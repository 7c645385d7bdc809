/**
 * This instance's caches of what the admin API changes: keys (the key cache, the CORS origins) and the
 * memberships behind user tokens (the bearer verifier). Every other instance learns of a change through
 * the invalidation feed or within its cache bound; the instance that makes the change is told directly,
 * before it answers, so that a revoked key, a new redirect URI, a removed CORS origin or a demoted
 * admin applies at once (DESIGN.md 2).
 */
export interface LocalCaches {
  keyChanged(keyId: number): Promise<void>;
  memberChanged(userId: number): void;
}

/** For processes that cache nothing (the CLI): the servers learn of the change by themselves. */
export const NO_LOCAL_CACHES: LocalCaches = { keyChanged: async () => {}, memberChanged: () => {} };
