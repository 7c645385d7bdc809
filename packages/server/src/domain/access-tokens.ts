import type { Permission } from '../model/types.ts';

/** The audience of every access token: the REST API (DESIGN.md 1). */
export const API_AUDIENCE = 'api1';

/** RFC 9068 2.1: the `typ` header of a JWT access token. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Claims of our access tokens (RFC 9068 2.2 plus `tenant_id` and `workspace_id`). */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  /** The user id (decimal string) for user tokens, the public key for client credentials. */
  sub: string;
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  tenant_id: number;
  workspace_id: number | null;
  /** What the token may do (DESIGN.md 1): its key's, and for a user no more than the user's role allows. */
  permissions: Permission;
}

/** A user id in `sub`: a positive decimal integer, as {@link userSubject} writes it. */
const USER_SUBJECT = /^[1-9][0-9]{0,14}$/;

/** The `sub` of a user's token. */
export function userSubject(userId: number): string {
  return String(userId);
}

/** The user a token speaks for, null for a client-credentials token, undefined for a `sub` we never write. */
export function subjectUser(claims: AccessTokenClaims): number | null | undefined {
  if (claims.sub === claims.client_id) return null;
  return USER_SUBJECT.test(claims.sub) ? Number(claims.sub) : undefined;
}
