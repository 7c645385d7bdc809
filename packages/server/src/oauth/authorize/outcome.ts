import type { AccessThroughKey } from '../../domain/users.ts';
import type { OAuthErrorCode } from '../../errors/codes.ts';
import type { Workspace } from '../../model/types.ts';
import { errorRedirectUrl } from '../redirect.ts';
import type { AuthorizationRequest } from './validate-request.ts';

/**
 * Where an authorization request goes next. The steps decide; the pages (console/authorize.ts) answer:
 * a redirect to the client, the sign-in or consent page, or an error page.
 */
export type AuthorizeOutcome =
  /** Back to the client: with a code, or with an error once the redirect URI is trusted. */
  | { kind: 'redirect'; location: string }
  /** To the sign-in page, which comes back to `returnTo` once the user has signed in. */
  | { kind: 'sign-in'; returnTo: string; reason?: 'not_member' }
  /** The consent page, for the workspaces the client will reach (null: all of the organization's). */
  | {
      kind: 'consent';
      request: AuthorizationRequest;
      access: AccessThroughKey;
      workspaces: Workspace[] | null;
    }
  /** A page that explains what is wrong and offers no way onward (never a redirect to an untrusted URI). */
  | { kind: 'error-page'; title: string; message: string };

/** A step that lets the flow continue with `value`, or ends it with an outcome. */
export type Step<T> = { ok: true; value: T } | { ok: false; outcome: AuthorizeOutcome };

/** Sends the browser back to the client with an error: only once its redirect URI is trusted. */
export function redirectError(
  issuer: string,
  target: { redirectUri: string; state: string | null },
  error: OAuthErrorCode,
  description: string,
): AuthorizeOutcome {
  return {
    kind: 'redirect',
    location: errorRedirectUrl(target.redirectUri, issuer, error, description, target.state),
  };
}
