import { issueAuthorizationCode } from '../../domain/authorization-codes.ts';
import type { SessionRecord } from '../../model/types.ts';
import type { Services } from '../../services.ts';
import { redirectUrl } from '../redirect.ts';
import type { AuthorizeOutcome } from './outcome.ts';
import type { AuthorizationRequest } from './validate-request.ts';

/**
 * Issues a code for a user who signed in and consented, and sends the browser back to the client. The
 * code keeps what its ID token will say: the request's nonce, and when and in which session the user
 * signed in.
 */
export async function issueCode(
  services: Services,
  authz: AuthorizationRequest,
  session: SessionRecord,
): Promise<AuthorizeOutcome> {
  const code = await issueAuthorizationCode(services.db, {
    apiKeyId: authz.client.id,
    userId: session.userId,
    redirectUri: authz.redirectUri,
    scope: authz.scopes.join(' '),
    codeChallenge: authz.codeChallenge,
    nonce: authz.nonce,
    authTime: session.authenticatedAt,
    sid: session.sid,
  });
  return {
    kind: 'redirect',
    location: redirectUrl(authz.redirectUri, services.config.issuer, { code, state: authz.state }),
  };
}
