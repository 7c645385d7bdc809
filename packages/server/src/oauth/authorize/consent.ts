import { hasConsent } from '../../domain/consents.ts';
import type { AccessThroughKey } from '../../domain/users.ts';
import { consentWorkspaces } from '../../domain/workspaces.ts';
import type { Services } from '../../services.ts';
import { redirectError, type Step } from './outcome.ts';
import type { AuthorizationRequest } from './validate-request.ts';

/**
 * The user's consent to every requested scope, remembered per user and key; `prompt=consent` asks
 * again. Without it, the consent page (or `consent_required` under `prompt=none`).
 */
export async function requireConsent(
  services: Services,
  authz: AuthorizationRequest,
  userId: number,
  access: AccessThroughKey,
): Promise<Step<true>> {
  const consented =
    !authz.prompt.has('consent') && (await hasConsent(services.db, userId, authz.client, authz.scopes));
  if (consented) return { ok: true, value: true };
  if (authz.prompt.has('none')) {
    const description = 'the user has not authorized this application';
    return {
      ok: false,
      outcome: redirectError(services.config.issuer, authz, 'consent_required', description),
    };
  }
  const workspaces =
    access.scope.workspaceIds === null ? null : await consentWorkspaces(services.db, access.scope);
  return { ok: false, outcome: { kind: 'consent', request: authz, access, workspaces } };
}
