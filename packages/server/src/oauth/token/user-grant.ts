import { leastOf, roleCeiling } from '../../domain/permissions.ts';
import type { IssuedGrant } from '../../domain/refresh-tokens.ts';
import { newRefreshToken } from '../../domain/refresh-tokens.ts';
import { hasScope, OPENID_SCOPE } from '../../domain/scopes.ts';
import { accessThroughKey } from '../../domain/users.ts';
import { OAuthError } from '../../errors/errors.ts';
import type { ApiKey } from '../../model/types.ts';
import type { Services } from '../../services.ts';
import { issueAccessToken } from '../access-token.ts';
import { issueIdToken } from '../id-token.ts';
import type { TokenResponse } from './grant.ts';

/** `invalid_grant` (RFC 6749 5.2): the code or refresh token is invalid, expired, revoked or not this client's. */
export function invalidGrant(description: string): OAuthError {
  return new OAuthError('invalid_grant', description);
}

/** What an authorization code remembers of the sign-in, for its ID token (OpenID Connect Core 2). */
export interface SignIn {
  nonce: string | null;
  /** Epoch ms. */
  authTime: number | null;
  sid: string | null;
}

export interface UserTokens {
  response: TokenResponse;
  grant: IssuedGrant;
}

/**
 * Issues the tokens of a user grant: an access token with `sub` = the user and the key's tenant and
 * workspace (the user's own workspace limits apply when the token is used: the intersection), and,
 * when the grant has `offline_access`, a refresh token of the family, alive `refreshTokenTtl` from now.
 * The user must still be a member of the key's tenant with access to some workspace of the key.
 */
export async function issueUserTokens(
  services: Services,
  input: {
    client: ApiKey;
    userId: number;
    familyId: string;
    /** The grant's scope (kept by refresh tokens) and the access token's (possibly narrower) one. */
    grantScope: string;
    accessScope: string;
    parentId: number | null;
    /**
     * The sign-in an authorization code stands for. Only the code grant passes one: a refresh answers
     * no ID token, which OpenID Connect Core 12.2 allows (the client keeps the one of its sign-in).
     */
    signIn?: SignIn;
  },
): Promise<UserTokens> {
  const access = await accessThroughKey(services.db, input.client, input.userId);
  if (!access || access.scope.workspaceIds?.length === 0)
    throw invalidGrant('the user may no longer use this application');
  const now = Date.now();
  const accessToken = await issueAccessToken(services, {
    client: input.client,
    userId: input.userId,
    scope: input.accessScope,
    workspaceId: input.client.workspaceId,
    // The lesser of the app key's permissions and the user's role (DESIGN.md 1).
    permissions: leastOf(input.client.permissions, roleCeiling(access.membership.role)),
    now,
  });
  // OpenID Connect Core 3.1.3.3: an ID token when the grant is an OpenID Connect one (scope openid).
  const idToken =
    input.signIn && hasScope(input.accessScope, OPENID_SCOPE)
      ? await issueIdToken(services, {
          client: input.client,
          userId: input.userId,
          scope: input.accessScope,
          ...input.signIn,
          accessToken: accessToken.token,
          now,
        })
      : null;
  const refresh = hasScope(input.grantScope, 'offline_access') ? newRefreshToken() : null;
  const grant: IssuedGrant = {
    familyId: input.familyId,
    apiKeyId: input.client.id,
    userId: input.userId,
    scope: input.grantScope,
    accessToken: { jti: accessToken.jti, expiresAt: accessToken.exp * 1000 },
    refreshToken: refresh && {
      hash: refresh.hash,
      expiresAt: now + services.config.refreshTokenTtl * 1000,
      parentId: input.parentId,
    },
  };
  const response: TokenResponse = {
    access_token: accessToken.token,
    expires_in: accessToken.expiresIn,
    token_type: 'Bearer',
    ...(refresh ? { refresh_token: refresh.token } : {}),
    scope: input.accessScope,
    ...(idToken ? { id_token: idToken } : {}),
  };
  return { response, grant };
}
