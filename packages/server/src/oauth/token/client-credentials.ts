import { issueAccessToken } from '../access-token.ts';
import { resolveScope } from '../scope.ts';
import type { GrantHandler } from './grant.ts';

/**
 * RFC 6749 4.4, client credentials: the API key acts for itself, within its own tenant and workspace.
 * `offline_access` is refused (no refresh token for this grant, RFC 6749 4.4.3), as is any unknown scope.
 */
export const clientCredentials: GrantHandler = async ({ params, client, services }) => {
  const scope = resolveScope(params.get('scope'));
  const { token, expiresIn } = await issueAccessToken(services, {
    client,
    userId: null,
    scope,
    workspaceId: client.workspaceId,
  });
  return { access_token: token, expires_in: expiresIn, token_type: 'Bearer', scope };
};
