import { issueAuthorizationCode } from '../../domain/authorization-codes.ts';
import type { Services } from '../../services.ts';
import { redirectUrl } from '../redirect.ts';
import type { AuthorizeOutcome } from './outcome.ts';
import type { AuthorizationRequest } from './validate-request.ts';

/** Issues a code for a user who signed in and consented, and sends the browser back to the client. */
export async function issueCode(
  services: Services,
  authz: AuthorizationRequest,
  userId: number,
): Promise<AuthorizeOutcome> {
  const code = await issueAuthorizationCode(services.db, {
    apiKeyId: authz.client.id,
    userId,
    redirectUri: authz.redirectUri,
    scope: authz.scopes.join(' '),
    codeChallenge: authz.codeChallenge,
  });
  return {
    kind: 'redirect',
    location: redirectUrl(authz.redirectUri, services.config.issuer, { code, state: authz.state }),
  };
}
