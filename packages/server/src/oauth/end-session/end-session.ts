import { userSubject } from '../../domain/access-tokens.ts';
import type { SessionRecord } from '../../model/types.ts';
import type { Services } from '../../services.ts';
import { ENDPOINTS } from '../discovery.ts';
import { type EndSessionOutcome, postLogoutRedirectUrl } from './outcome.ts';
import { type EndSessionRequest, validateEndSessionRequest } from './validate-request.ts';

/** What the pages know of the browser behind a logout request. */
export interface BrowserState {
  method: 'GET' | 'POST';
  /** Whether the request carried a session cookie at all (live or not). */
  sessionCookie: boolean;
  /** The live session behind that cookie, if any. */
  session: SessionRecord | undefined;
}

function refused(message: string): EndSessionOutcome {
  return { kind: 'error-page', title: 'This sign-out link is not valid', message };
}

/** Signs out (when there is a session) and goes back to the client, or to the signed-out page. */
function signOut(request: EndSessionRequest, session: SessionRecord | undefined): EndSessionOutcome {
  return {
    kind: 'signed-out',
    endSession: session !== undefined,
    location: request.redirectUri === null ? null : postLogoutRedirectUrl(request.redirectUri, request.state),
    client: request.client,
  };
}

/**
 * Whether the hint proves that the logout is about this very session: an ID token of the signed-in
 * user and, when both carry one, of this session (the `sid` claim of OpenID Connect Front-Channel
 * Logout 1.0). An ID token of an earlier session of the same user, or of someone else, proves nothing.
 */
function hintMatches(request: EndSessionRequest, session: SessionRecord): boolean {
  const { hint } = request;
  if (!hint || hint.sub !== userSubject(session.userId)) return false;
  return hint.sid === undefined || session.sid === null || hint.sid === session.sid;
}

/** `/connect/endsession?…`: the same request, with the validated parameters only. */
function asGet(request: EndSessionRequest): string {
  const query = new URLSearchParams(request.params).toString();
  return query ? `${ENDPOINTS.endSession}?${query}` : ENDPOINTS.endSession;
}

/**
 * RP-Initiated Logout 1.0 section 2, top to bottom: validate the request (a forged hint or an
 * unregistered redirect stops here, on a page), then, for the signed-in browser, end the session at
 * once only when the hint shows it is the one the client signed in with; otherwise ask the user
 * (section 6: the OP should ask, lest any site sign its users out). Without a session there is
 * nothing to end: straight back to the client, or to the signed-out page.
 */
export async function endSession(
  services: Services,
  params: Record<string, string | string[]>,
  browser: BrowserState,
): Promise<EndSessionOutcome> {
  const validation = await validateEndSessionRequest(services, params);
  if (!validation.ok) return refused(validation.message);
  const { request } = validation;
  // A form posted from another site carries no SameSite=Lax cookie: a session may well exist, unseen.
  if (browser.method === 'POST' && !browser.sessionCookie)
    return { kind: 'resubmit', location: asGet(request) };
  const { session } = browser;
  if (!session || hintMatches(request, session)) return signOut(request, session);
  return { kind: 'confirm', request };
}

/**
 * The user's answer on the confirmation page (its CSRF token already checked by the page). The logout
 * request travels in the form and is validated again from scratch, as at the endpoint, so that
 * nothing posted here can reach a redirect URI the endpoint would have refused.
 */
export async function confirmEndSession(
  services: Services,
  params: Record<string, string | string[]>,
  session: SessionRecord | undefined,
): Promise<EndSessionOutcome> {
  const validation = await validateEndSessionRequest(services, params);
  if (!validation.ok) return refused(validation.message);
  return signOut(validation.request, session);
}
