import type { ApiKey } from '../../model/types.ts';
import type { EndSessionRequest } from './validate-request.ts';

/**
 * Where a logout request goes next. The steps decide (end-session.ts); the pages answer
 * (console/end-session/): they alone touch the cookie, since ending a session is ending it in the
 * browser too.
 */
export type EndSessionOutcome =
  /** Sign out now (when `endSession`), then go back to the client (`location`) or show the signed-out page. */
  | { kind: 'signed-out'; endSession: boolean; location: string | null; client: ApiKey | null }
  /** Ask the signed-in user first, with a form that posts the request back. */
  | { kind: 'confirm'; request: EndSessionRequest }
  /**
   * Repeat the request as a GET: a logout form posted from the client's site arrives without our
   * `SameSite=Lax` session cookie, so the session it should end cannot be seen; a top-level GET
   * carries it (see `endSession`).
   */
  | { kind: 'resubmit'; location: string }
  /** A page that explains what is wrong: no redirect, and the session is left as it is. */
  | { kind: 'error-page'; title: string; message: string };

/**
 * The URL the browser is sent back to after logout: the registered `post_logout_redirect_uri` (its own
 * query kept) with `state` when the client sent one (RP-Initiated Logout 1.0 section 3). Nothing else:
 * the specification defines no `iss` here, unlike the authorization response (RFC 9207).
 * Only ever called with a URI that matched a registered one byte for byte.
 */
export function postLogoutRedirectUrl(redirectUri: string, state: string | null): string {
  if (state === null) return redirectUri;
  const url = new URL(redirectUri);
  url.searchParams.append('state', state);
  return url.href;
}
