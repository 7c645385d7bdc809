import { type AccessThroughKey, accessThroughKey } from '../../domain/users.ts';
import type { Services } from '../../services.ts';
import { redirectError, type Step } from './outcome.ts';
import { type AuthorizationRequest, authorizePath } from './validate-request.ts';

/**
 * The user's access through the client: a member of the key's organization, with at least one
 * workspace in common with the key. A non-member is sent back to sign in with another account
 * (`login_required` under `prompt=none`); a member with no workspace in common gets `access_denied`.
 */
export async function checkAccess(
  services: Services,
  authz: AuthorizationRequest,
  userId: number,
): Promise<Step<AccessThroughKey>> {
  const access = await accessThroughKey(services.db, authz.client, userId);
  const back = (error: 'login_required' | 'access_denied', description: string): Step<AccessThroughKey> => ({
    ok: false,
    outcome: redirectError(services.config.issuer, authz, error, description),
  });
  if (!access) {
    if (authz.prompt.has('none'))
      return back('login_required', 'the signed-in user is not a member of this organization');
    const returnTo = authorizePath(authz.params, ['login']);
    return { ok: false, outcome: { kind: 'sign-in', returnTo, reason: 'not_member' } };
  }
  if (access.scope.workspaceIds?.length === 0)
    return back('access_denied', 'the user has no access to the workspace of this application');
  return { ok: true, value: access };
}
