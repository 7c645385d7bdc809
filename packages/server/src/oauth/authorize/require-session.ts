import type { SessionRecord } from '../../model/types.ts';
import { redirectError, type Step } from './outcome.ts';
import { type AuthorizationRequest, authorizePath } from './validate-request.ts';

/** Whether the session's sign-in is older than the request's `max_age` allows (OpenID Connect Core 3.1.2.1). */
function tooOld(session: SessionRecord, maxAge: number | null, now: number): boolean {
  return maxAge !== null && now - session.authenticatedAt > maxAge * 1000;
}

/**
 * A signed-in user, or the way to one: the sign-in page, which returns to this request without
 * `prompt=login` and `max_age` (so that the fresh sign-in satisfies them). `prompt=login`, or a sign-in
 * older than `max_age`, asks again even with a session; `prompt=none` never shows a page and answers
 * `login_required` (OpenID Connect Core 3.1.2.6).
 */
export function requireSession(
  issuer: string,
  authz: AuthorizationRequest,
  session: SessionRecord | undefined,
  now = Date.now(),
): Step<SessionRecord> {
  if (session && !authz.prompt.has('login') && !tooOld(session, authz.maxAge, now))
    return { ok: true, value: session };
  if (authz.prompt.has('none'))
    return {
      ok: false,
      outcome: redirectError(issuer, authz, 'login_required', 'the user is not signed in'),
    };
  return { ok: false, outcome: { kind: 'sign-in', returnTo: authorizePath(authz.params, ['login']) } };
}
