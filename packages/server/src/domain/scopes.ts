/**
 * Every scope we know, in canonical order (DESIGN.md 1): `api1` for the REST API, the OpenID Connect
 * scopes for sign-in (`openid` for an ID token, `profile` and `email` for claims), and
 * `offline_access` for a refresh token.
 */
export const SCOPES = ['api1', 'openid', 'profile', 'email', 'offline_access'] as const;
export type Scope = (typeof SCOPES)[number];

/** The scope of REST API access. */
export const API_SCOPE: Scope = 'api1';

/** OpenID Connect Core 3.1.2.1: a request with this scope is an OpenID Connect request. */
export const OPENID_SCOPE: Scope = 'openid';

/** Whether a granted scope string contains `scope`. */
export function hasScope(granted: string, scope: Scope): boolean {
  return granted.split(' ').includes(scope);
}

/**
 * Why a set of scope values asks for nothing usable, or null when it is fine: a request is for the REST
 * API (`api1`), for sign-in (`openid`), or both; `profile` and `email` are claims of an ID token and
 * mean nothing without `openid`.
 */
export function missingScope(scopes: readonly string[]): string | null {
  const openid = scopes.includes(OPENID_SCOPE);
  if (!openid && (scopes.includes('profile') || scopes.includes('email')))
    return 'the profile and email scopes require openid';
  if (!openid && !scopes.includes(API_SCOPE)) return 'the api1 scope is required';
  return null;
}
