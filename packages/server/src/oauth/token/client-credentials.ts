import { OAuthError } from '../../errors/errors.ts';
import { issueAccessToken } from '../access-token.ts';
import { resolveScope } from '../scope.ts';
import type { GrantHandler } from './grant.ts';

/**
 * RFC 6749 4.4, client credentials: the API key acts for itself, within its own tenant and workspace.
 * `offline_access` is refused (no refresh token for this grant, RFC 6749 4.4.3), as is any unknown scope.
 * RFC 6749 4.4: only a confidential client may use this grant; a public one, which proved nothing but
 * its client_id, is `unauthorized_client` (5.2), or anyone could act as it.
 */
export const clientCredentials: GrantHandler = async ({ params, client, services }) => {
  if (client.clientType === 'public') {
    throw new OAuthError(
      'unauthorized_client',
      'a public client cannot use client credentials: it has no secret; use the authorization code flow with PKCE',
    );
  }
  const scope = resolveScope(params.get('scope'));
  const { token, expiresIn } = await issueAccessToken(services, {
    client,
    userId: null,
    scope,
    workspaceId: client.workspaceId,
  });
  return { access_token: token, expires_in: expiresIn, token_type: 'Bearer', scope };
};
