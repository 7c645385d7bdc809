import { LRUCache } from 'lru-cache';
import { type AccessTokenClaims, subjectUser } from '../domain/access-tokens.ts';
import { type KeyStatusFailure, keyStatus } from '../domain/api-keys.ts';
import { leastOf, roleCeiling } from '../domain/permissions.ts';
import { memberOf } from '../domain/users.ts';
import { ENTRY_OVERHEAD, stringBytes } from '../model/memory-size.ts';
import type { ApiKey, Principal } from '../model/types.ts';
import type { Db } from '../storage/transaction.ts';
import { checkAccessToken } from './access-token-verify.ts';
import type { Denylist } from './denylist.ts';
import type { KeyCache } from './key-cache.ts';
import type { KeyRing } from './key-ring.ts';

/** A valid token refused because of its API key's state: the key (its usage counts it) and why. */
export interface KeyRefusal {
  keyId: number;
  code: KeyStatusFailure;
}

/**
 * Result of checking an access token; a failure carries a short reason for `error_description`, and
 * `keyRefusal` when the token itself is genuine but its key is revoked or expired.
 */
export type BearerResult =
  | { valid: true; principal: Principal }
  | { valid: false; reason: string; keyRefusal?: KeyRefusal };

/** Everything the bearer check reads: the token's keys, revocations, clients, and memberships. */
export interface BearerDependencies {
  db: Db;
  issuer: string;
  keys: KeyCache;
  ring: KeyRing;
  denylist: Denylist;
}

/**
 * The principal behind verified claims, or null when the token's subject may no longer act.
 * Client credentials (`sub` = the client's public key): the key's tenant and workspace, no user.
 * User tokens (`sub` = user id): the user, with their role, while they are a member of the tenant.
 * The verifier resolves it once per token and instance and keeps it with the cached token, so a role
 * change reaches a token already in use only when it expires (at most the access-token lifetime).
 */
export async function principalFromClaims(
  db: Db,
  claims: AccessTokenClaims,
  key: ApiKey,
): Promise<Principal | null> {
  const base = {
    authMethod: 'bearer' as const,
    tenantId: claims.tenant_id,
    workspaceId: claims.workspace_id,
    apiKey: { id: key.id, publicKey: key.publicKey, label: key.label },
    scope: claims.scope,
    // Never more than the key may do now, whatever the token says.
    permissions: leastOf(claims.permissions, key.permissions),
  };
  const userId = subjectUser(claims);
  if (userId === null) return { ...base, user: null };
  if (userId === undefined) return null;
  const found = await memberOf(db, claims.tenant_id, userId);
  if (!found) return null;
  const { user, membership } = found;
  return {
    ...base,
    // Nor more than the user's role allows now (a demoted admin's token no longer administers).
    permissions: leastOf(base.permissions, roleCeiling(membership.role)),
    user: { ...user, role: membership.role, workspaceIds: membership.workspaceIds },
  };
}

/** Tenant isolation (DESIGN.md 3 rule 3): a token speaks for its key's tenant and, if any, its workspace. */
function matchesKey(claims: AccessTokenClaims, key: ApiKey): boolean {
  if (claims.tenant_id !== key.tenantId) return false;
  if (key.workspaceId !== null && claims.workspace_id !== key.workspaceId) return false;
  // A client-credentials token carries exactly its key's scope.
  return claims.sub !== key.publicKey || claims.workspace_id === key.workspaceId;
}

interface VerifiedToken {
  claims: AccessTokenClaims;
  /** Resolved on first use; null: the subject may not act. */
  principal?: Principal | null;
  /** When the principal was resolved (epoch ms): a user's membership is read again after a while. */
  resolvedAt?: number;
}

/**
 * How long a user's role and workspaces are trusted from memory. A change made on this instance applies
 * at once ({@link BearerVerifier.forgetUser}); one made elsewhere within this bound.
 */
export const MEMBERSHIP_TTL_MS = 10_000;

export type TokenState =
  | { active: true; claims: AccessTokenClaims; key: ApiKey; principal: Principal }
  | { active: false; reason: string; keyRefusal?: KeyRefusal };

export interface BearerVerifierOptions {
  /** Bytes the verified tokens may take per instance (estimated: model/memory-size.ts). */
  maxBytes?: number;
}

/**
 * What a verified token weighs beside the token itself: its claims (a dozen short strings) and its
 * principal (the user and workspaces; the API key is the key cache's object, shared).
 */
const CLAIMS_AND_PRINCIPAL_BYTES = 1024;
/** About 1.7 KB per token of the usual length: some 10,000 tokens. */
export const VERIFIED_TOKEN_BYTES = 16 * 1024 * 1024;

/**
 * `Authorization: Bearer` verification (DESIGN.md 2, hot path). A token's signature and claims are
 * checked once per instance, then the token is remembered in an LRU until its `exp`. What can change
 * during a token's life is checked on every request, from memory: the denylist of revoked tokens, and
 * the status of the API key it was issued to (KeyCache, invalidated within a second on every instance),
 * so that revoking a key refuses its tokens at once.
 */
export class BearerVerifier {
  /** How many tokens went through the full cryptographic check (a cache miss each). */
  coldChecks = 0;
  private readonly verified: LRUCache<string, VerifiedToken>;

  constructor(
    private readonly deps: BearerDependencies,
    options: BearerVerifierOptions = {},
  ) {
    // Past the bound, the least recently used token pays one more signature check when it comes back.
    this.verified = new LRUCache({
      maxSize: options.maxBytes ?? VERIFIED_TOKEN_BYTES,
      sizeCalculation: (_entry, token) => ENTRY_OVERHEAD + stringBytes(token) + CLAIMS_AND_PRINCIPAL_BYTES,
    });
  }

  /** Tokens whose signature check is remembered, for `/metrics`. */
  get size(): number {
    return this.verified.size;
  }

  /** Drops what is remembered of a user's tokens (their role or membership changed on this instance). */
  forgetUser(userId: number): void {
    this.forgetUsers(new Set([userId]));
  }

  /**
   * Drops what is remembered of these users' tokens, in one pass over the cache (a change notification
   * from another instance can name many users at once: an organization deleted).
   */
  forgetUsers(userIds: ReadonlySet<number>): void {
    this.forgetWhere((id) => userIds.has(id));
  }

  /** Drops what is remembered of every user's tokens (changes to memberships may have gone unannounced). */
  forgetEveryUser(): void {
    this.forgetWhere(() => true);
  }

  private forgetWhere(matches: (userId: number) => boolean): void {
    const tokens = [...this.verified.entries()].filter(([, entry]) => {
      const user = entry.principal?.user;
      return user != null && matches(user.id);
    });
    for (const [token] of tokens) this.verified.delete(token);
  }

  async verify(token: string): Promise<BearerResult> {
    const state = await this.inspect(token);
    if (state.active) return { valid: true, principal: state.principal };
    return state.keyRefusal
      ? { valid: false, reason: state.reason, keyRefusal: state.keyRefusal }
      : { valid: false, reason: state.reason };
  }

  /** Everything the bearer check decides, with the claims (also the source of RFC 7662 introspection). */
  async inspect(token: string, now = Date.now()): Promise<TokenState> {
    const { deps } = this;
    let entry = this.verified.get(token);
    if (!entry) {
      this.coldChecks++;
      const checked = await checkAccessToken(deps.ring, token, { issuer: deps.issuer, now });
      if (!checked.ok) return { active: false, reason: checked.reason };
      entry = { claims: checked.claims };
      this.verified.set(token, entry, { ttl: checked.claims.exp * 1000 - now });
    }
    const { claims } = entry;
    if (claims.exp * 1000 <= now) return { active: false, reason: 'the access token has expired' };
    if (deps.denylist.has(claims.jti)) return { active: false, reason: 'the access token was revoked' };
    const key = await deps.keys.findClient(claims.client_id);
    if (!key) return { active: false, reason: 'the API key of this token no longer exists' };
    const failure = keyStatus(key, now);
    if (failure) {
      const keyRefusal = { keyId: key.id, code: failure };
      return { active: false, reason: `the API key of this token is ${failure}`, keyRefusal };
    }
    if (!matchesKey(claims, key)) return { active: false, reason: 'the token does not match its API key' };
    const stale = entry.principal?.user && now - (entry.resolvedAt ?? 0) > MEMBERSHIP_TTL_MS;
    if (entry.principal === undefined || stale || entry.principal?.apiKey.label !== key.label) {
      entry.principal = await principalFromClaims(deps.db, claims, key);
      entry.resolvedAt = now;
    }
    if (!entry.principal) return { active: false, reason: 'the subject of this token may no longer act' };
    return { active: true, claims, key, principal: entry.principal };
  }
}
