import type { Db } from '../storage/transaction.ts';
import { userSubject } from './access-tokens.ts';
import { hasScope } from './scopes.ts';
import { findUser } from './users.ts';

/** The claims each OpenID Connect scope releases (OpenID Connect Core 5.4), in the order they are listed. */
export const SCOPE_CLAIMS = {
  profile: ['name'],
  email: ['email', 'email_verified'],
} as const;

/** Every claim an ID token or userinfo may carry about the user, for discovery's `claims_supported`. */
export const USER_CLAIMS = ['sub', ...SCOPE_CLAIMS.profile, ...SCOPE_CLAIMS.email] as const;

export interface UserClaims {
  sub: string;
  name?: string;
  email?: string;
  email_verified?: boolean;
}

/**
 * What a grant of `scope` may tell a client about a user (OpenID Connect Core 5.1): `sub` (the user id,
 * stable and never reassigned) always, `name` with `profile` (omitted while the user has none), `email`
 * and `email_verified` with `email`. Gatehouse does not verify addresses (an administrator or the CLI
 * enters them), so `email_verified` is false. Undefined when the user no longer exists.
 */
export async function userClaims(db: Db, userId: number, scope: string): Promise<UserClaims | undefined> {
  const user = await findUser(db, userId);
  if (!user) return undefined;
  const claims: UserClaims = { sub: userSubject(user.id) };
  if (hasScope(scope, 'profile') && user.displayName) claims.name = user.displayName;
  if (hasScope(scope, 'email')) {
    claims.email = user.email;
    claims.email_verified = false;
  }
  return claims;
}
