import { userActor } from '../../domain/audit.ts';
import { rememberConsent } from '../../domain/consents.ts';
import type { SessionRecord } from '../../model/types.ts';
import type { Services } from '../../services.ts';
import { checkAccess } from './check-access.ts';
import { requireConsent } from './consent.ts';
import { issueCode } from './issue-code.ts';
import { type AuthorizeOutcome, redirectError } from './outcome.ts';
import { requireSession } from './require-session.ts';
import {
  type AuthorizationValidation,
  authorizePath,
  validateAuthorizationRequest,
} from './validate-request.ts';

/** A failed validation: a page when the redirect URI is not trusted, a redirect to the client when it is. */
function invalid(
  issuer: string,
  validation: Exclude<AuthorizationValidation, { kind: 'ok' }>,
): AuthorizeOutcome {
  if (validation.kind === 'page')
    return { kind: 'error-page', title: 'This sign-in link is not valid', message: validation.message };
  return redirectError(issuer, validation, validation.error, validation.description);
}

/**
 * RFC 6749 4.1.1 with the rules of DESIGN.md 1, top to bottom: validate the request, then make sure a
 * member of the client's organization is signed in, then that they consented, then issue a code.
 */
export async function authorize(
  services: Services,
  params: Record<string, string | string[]>,
  session: SessionRecord | undefined,
): Promise<AuthorizeOutcome> {
  const { issuer } = services.config;
  const validation = await validateAuthorizationRequest(services, params);
  if (validation.kind !== 'ok') return invalid(issuer, validation);
  const authz = validation.request;
  const signedIn = requireSession(issuer, authz, session);
  if (!signedIn.ok) return signedIn.outcome;
  const userId = signedIn.value.userId;
  const access = await checkAccess(services, authz, userId);
  if (!access.ok) return access.outcome;
  const consent = await requireConsent(services, authz, userId, access.value);
  if (!consent.ok) return consent.outcome;
  return issueCode(services, authz, signedIn.value);
}

/** The user's answer on the consent page. */
export interface ConsentDecision {
  /** `allow` or `deny`; anything else is a form we did not serve. */
  decision: unknown;
  ip: string;
}

/**
 * The user's answer on the consent page. The authorization request travels in the form and is
 * validated again from scratch, exactly as at the authorization endpoint, so that nothing posted here
 * can reach a redirect URI or a scope the endpoint would have refused.
 */
export async function decide(
  services: Services,
  params: Record<string, string | string[]>,
  session: SessionRecord | undefined,
  answer: ConsentDecision,
): Promise<AuthorizeOutcome> {
  const { issuer } = services.config;
  const validation = await validateAuthorizationRequest(services, params);
  if (validation.kind !== 'ok') return invalid(issuer, validation);
  const authz = validation.request;
  // The session ended while the consent page was open: sign in again, then back to the request.
  if (!session) return { kind: 'sign-in', returnTo: authorizePath(authz.params, ['login']) };
  const access = await checkAccess(services, authz, session.userId);
  if (!access.ok) return access.outcome;
  if (answer.decision === 'deny')
    return redirectError(issuer, authz, 'access_denied', 'the user denied the request');
  if (answer.decision !== 'allow')
    return { kind: 'error-page', title: 'Unexpected answer', message: 'Choose Allow or Deny.' };
  await rememberConsent(
    services.db,
    session.userId,
    authz.client,
    authz.scopes,
    userActor(session.userId, answer.ip),
  );
  return issueCode(services, authz, session);
}
